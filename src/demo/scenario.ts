import type { DemoWorld } from './world.js';

export const STEPS = ['normal', 'fiber-cut', 'kiosk-power', 'regency-down', 'recovery'] as const;
export type StepName = (typeof STEPS)[number];

/** Seconds each step lasts in real time (factor 1), and the least it may be compressed to. */
const DURATION_S: Readonly<Record<StepName, { base: number; min: number }>> = {
  normal: { base: 30, min: 6 },
  'fiber-cut': { base: 120, min: 14 },
  'kiosk-power': { base: 60, min: 10 },
  'regency-down': { base: 60, min: 8 },
  recovery: { base: 45, min: 6 },
};

export interface ScenarioState {
  name: 'fiber-cut';
  state: 'idle' | 'running' | 'done' | 'stopped';
  factor: number;
  /** The step now running (null before the start and after the end). */
  step: StepName | null;
  /** Each step begun so far, with its wall times (ISO). */
  steps: Array<{ name: StepName; started: string; ended: string | null; planned_s: number }>;
}

/** The kiosk whose power the scenario cuts. */
export const POWER_CUT_KIOSK = 'adm-3';

/**
 * The demo's bad day, `fiber-cut`: after a normal stretch, the ISP's fiber is cut (the ONT, and with it the internet
 * upstream and the path to the regency, stop answering), then one kiosk loses power, then the
 * regency's broker goes down, then everything is back and the queues drain. Each step lasts
 * its duration divided by the time-compression factor (never below its minimum, so the
 * gateway's own detection still fits in it).
 */
export class FiberCutScenario {
  private readonly st: ScenarioState;
  private abort: AbortController | undefined;
  private run: Promise<void> | undefined;

  constructor(
    private readonly world: DemoWorld,
    factor: number,
  ) {
    this.st = { name: 'fiber-cut', state: 'idle', factor, step: null, steps: [] };
  }

  get state(): ScenarioState {
    return structuredClone(this.st);
  }

  static durationS(step: StepName, factor: number): number {
    const d = DURATION_S[step];
    return Math.max(d.min, d.base / Math.max(1, factor));
  }

  /** Starts the scenario; false when it is already running. A finished one starts over. */
  start(): boolean {
    if (this.st.state === 'running') return false;
    this.st.state = 'running';
    this.st.steps = [];
    const abort = new AbortController();
    this.abort = abort;
    this.run = this.play(abort.signal).then(
      () => {
        if (this.st.state === 'running') this.st.state = 'done';
      },
      () => {
        this.st.state = 'stopped';
      },
    );
    return true;
  }

  /** Ends a running scenario and puts every part back (demo shutting down). */
  async stop(): Promise<void> {
    this.abort?.abort();
    await this.run;
    await this.restoreAll();
  }

  private async play(signal: AbortSignal): Promise<void> {
    const w = this.world;
    // A normal stretch first: the kiosks' answers come from the cache, fresh.
    await this.step('normal', signal, async () => undefined);
    await this.step('fiber-cut', signal, async () => {
      await Promise.all([w.ont.cut(), w.upstream.stop(), w.path?.cut()]);
    });
    await Promise.all([w.ont.start(), w.upstream.start(), w.path?.start()]);
    await this.step('kiosk-power', signal, () => w.powerOff(POWER_CUT_KIOSK));
    await w.powerOn(POWER_CUT_KIOSK);
    await this.step('regency-down', signal, async () => {
      await Promise.all([w.broker.stop(), w.path?.cut()]);
    });
    await this.restoreAll();
    await this.step('recovery', signal, async () => undefined);
    this.st.step = null;
  }

  private async step(name: StepName, signal: AbortSignal, act: () => Promise<void>): Promise<void> {
    signal.throwIfAborted();
    const planned = FiberCutScenario.durationS(name, this.st.factor);
    const prev = this.st.steps.at(-1);
    if (prev && prev.ended === null) prev.ended = new Date().toISOString();
    this.st.step = name;
    this.st.steps.push({ name, started: new Date().toISOString(), ended: null, planned_s: planned });
    await act();
    await wait(planned * 1000, signal);
    const cur = this.st.steps.at(-1);
    if (cur) cur.ended = new Date().toISOString();
  }

  private async restoreAll(): Promise<void> {
    const w = this.world;
    await w.broker.start();
    await Promise.all([w.ont.start(), w.upstream.start(), w.path?.start(), w.powerOn(POWER_CUT_KIOSK)]);
  }
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
