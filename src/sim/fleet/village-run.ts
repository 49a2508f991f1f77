import { randomUUID } from 'node:crypto';
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../core/logger.js';
import { OperationRegistry } from '../../modules/operations.js';
import { CommandResponder } from '../../report/command-responder.js';
import { CommandRegistry } from '../../report/commands.js';
import { Outbox } from '../../report/outbox.js';
import { OutboxPump } from '../../report/outbox-pump.js';
import type { OutboxRepo } from '../../report/outbox-repo.js';
import { RetainedState } from '../../report/retained-state.js';
import type { Topics } from '../../report/topics.js';
import type { StatusHub } from '../../status/status-hub.js';
import type { FleetContext } from './fleet-context.js';
import type { LinkModel } from './link-model.js';
import type { MemoryStore } from './memory-store.js';
import { resendOperation } from './resend-command.js';
import type { SentLog } from './sent-log.js';
import { VillageClock } from './sim-time.js';
import { villageOperations } from './village-operations.js';
import type { Session } from './village-session.js';

const OUTBOX_MAX_BYTES = 64 * 1024 * 1024;

/** What lives while the box is powered: one run of the daemon (a boot). */
export interface Run {
  boot: string;
  startedAt: string;
  clock: VillageClock;
  outbox: Outbox;
  pump: OutboxPump;
  retained: RetainedState;
  responder: CommandResponder;
  builtins: { stop(): void };
  dropsAtHealth: Record<string, number>;
}

export interface RunDeps {
  fleet: FleetContext;
  store: MemoryStore;
  repo: OutboxRepo;
  log: Logger;
  topics: Topics;
  code: string;
  config: Config;
  link: LinkModel;
  sent: SentLog;
  hub: StatusHub;
  session: Session;
  /** Simulated wall time of the boot, the clock's lag behind it, and whether NTP has synced. */
  at: number;
  lagMs: number;
  synced: boolean;
}

/**
 * One boot of a simulated box: a new boot id and clock, and the daemon's own report parts
 * (outbox and pump on the surviving store, operations incl. resend, command registry and
 * responder, retained state), started and ready to attach to a broker session.
 */
export function startRun(d: RunDeps): Run {
  const clock = new VillageClock(d.fleet.time, randomUUID());
  clock.lagMs = d.lagMs;
  clock.isSynced = d.synced;
  const boot = randomUUID();
  const outbox = new Outbox({
    store: d.store,
    repo: d.repo,
    clock,
    scheduler: d.fleet.scheduler,
    log: d.log,
    topics: d.topics,
    gw: d.code,
    boot,
    maxBytes: OUTBOX_MAX_BYTES,
    onChange: () => undefined,
  });
  const pump = new OutboxPump({
    outbox,
    repo: d.repo,
    clock,
    scheduler: d.fleet.scheduler,
    log: d.log,
    window: d.fleet.mqtt.inflight_window,
    drainPerS: d.fleet.mqtt.drain_per_s,
  });
  const ops = villageOperations({
    config: d.config,
    link: d.link,
    log: d.log,
    scheduler: d.fleet.scheduler,
    flushOutbox: () => {
      pump.flushNow();
      return { depth: outbox.depth(), connected: d.session.up };
    },
  });
  const operations = new OperationRegistry();
  for (const op of ops.operations) operations.register(op);
  operations.register(
    resendOperation({
      sent: d.sent,
      topics: d.topics,
      client: () => d.session.current,
      after: (ms, fn) => d.fleet.scheduler.after('fleet-sim-resend', ms, fn),
      onResent: (n) => d.fleet.resent(n),
    }),
  );
  operations.seal();
  const registry = new CommandRegistry({ log: d.log, operations });
  const retained = new RetainedState({
    gateway: d.config.gateway,
    clock,
    log: d.log,
    status: d.hub,
    topics: d.topics,
    runId: boot,
    version: d.fleet.version,
    // In real seconds, never less than the simulated interval: a slowed-down fleet is not silent.
    healthIntervalS: Math.ceil(d.fleet.options.healthIntervalS / Math.min(1, d.fleet.time.speed)),
    commandNames: () => registry.names(),
  });
  const responder = new CommandResponder({ registry, topics: d.topics });
  outbox.start();
  return {
    boot,
    startedAt: new Date(d.at - d.lagMs).toISOString(),
    clock,
    outbox,
    pump,
    retained,
    responder,
    builtins: ops,
    dropsAtHealth: { ...outbox.drops() },
  };
}
