import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { KioskSim } from '../../src/sim/kiosk-sim.js';
import { TestDaemon } from '../helpers/daemon.js';
import { freePort, sleep, waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';

const KIOSKS = 4;
const dirs: Array<() => void> = [];
afterAll(() => {
  for (const cleanup of dirs) cleanup();
});

interface Target {
  dataDir: string;
  start(): Promise<void>;
  kill(): Promise<unknown>;
  stop(): Promise<unknown>;
}

/** The devices module alone in a child process, for the durability mode the daemon does not use. */
class IngestServer implements Target {
  private proc: ChildProcess | undefined;
  constructor(
    private readonly dir: string,
    private readonly port: number,
    private readonly durability: string,
  ) {}
  get dataDir() {
    return join(this.dir, 'data');
  }
  async start() {
    const script = fileURLToPath(new URL('./fixtures/ingest-server.mjs', import.meta.url));
    const args = ['--dir', this.dir, '--port', String(this.port), '--durability', this.durability];
    const proc = spawn(process.execPath, [script, ...args, '--devices', String(KIOSKS)], { stdio: 'pipe' });
    this.proc = proc;
    await new Promise<void>((resolve, reject) => {
      proc.stdout?.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
      proc.once('exit', (code) => reject(new Error(`ingest server exited with ${code}`)));
    });
  }
  async kill() {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  }
  stop() {
    return this.kill();
  }
}

function storedIds(dataDir: string): { ids: Set<string>; integrity: string } {
  const db = new Database(join(dataDir, 'gateway.db'));
  try {
    const ids = new Set((db.prepare('SELECT id FROM usage_events').pluck().all() as string[]).map(String));
    const integrity = db.pragma('integrity_check', { simple: true }) as string;
    return { ids, integrity };
  } finally {
    db.close();
  }
}

function setup(): { dir: string; devices: Array<Record<string, string>> } {
  const tmp = tempDir('kgw-crash-');
  dirs.push(tmp.cleanup);
  const devices = Array.from({ length: KIOSKS }, (_, i) => {
    const id = `adm-${i + 1}`;
    const file = join(tmp.path, `${id}.token`);
    writeFileSync(file, `token-${id}-crash-test\n`);
    return { id, name: `Anjungan ${i + 1}`, kind: 'kiosk', token_file: file };
  });
  return { dir: tmp.path, devices };
}

/** Kiosks post all along; the target is killed -9 at a random moment of each round. */
async function crashRounds(target: Target, port: number, rounds: number, label: string): Promise<void> {
  const kiosks = Array.from(
    { length: KIOSKS },
    (_, i) =>
      new KioskSim({
        gateway: `http://127.0.0.1:${port}`,
        deviceId: `adm-${i + 1}`,
        token: `token-adm-${i + 1}-crash-test`,
        rate: 300,
        batchMax: 20,
        heartbeatMs: 0,
        healthPort: null,
        requestTimeoutMs: 2000,
        // Back at work as soon as the target is: every round must kill it under load.
        maxBackoffMs: 100,
      }),
  );
  await Promise.all(kiosks.map((k) => k.start()));
  const acknowledged = () => kiosks.reduce((s, k) => s + k.stats.acknowledged, 0);
  let checkedAcked = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      await target.start();
      // Kill only while kiosks are posting: wait for fresh acknowledgements first.
      const before = acknowledged();
      await waitFor(() => acknowledged() > before, 10_000, 5);
      await sleep(Math.floor(Math.random() * 400));
      await target.kill();
      const acked = kiosks.flatMap((k) => [...k.acked]);
      const { ids, integrity } = storedIds(target.dataDir);
      expect(integrity).toBe('ok');
      expect(
        acked.filter((id) => !ids.has(id)),
        `round ${round}`,
      ).toEqual([]);
      checkedAcked = acked.length;
    }
    // Last start: every kiosk delivers what it still holds (same ids), then a stop.
    for (const k of kiosks) k.pause();
    await target.start();
    const drained = await Promise.all(kiosks.map((k) => k.drain(15_000)));
    expect(drained.every(Boolean)).toBe(true);
  } finally {
    await Promise.all(kiosks.map((k) => k.stop()));
    await target.stop();
  }
  const acked = new Set(kiosks.flatMap((k) => [...k.acked]));
  const { ids, integrity } = storedIds(target.dataDir);
  expect(integrity).toBe('ok');
  const duplicates = kiosks.reduce((s, k) => s + k.stats.duplicates, 0);
  process.stdout.write(
    `${label}: ${rounds} kill -9 rounds, acknowledged before the last kill: ${checkedAcked}, ` +
      `total: ${acked.size}, re-sent ids answered as duplicates: ${duplicates}\n`,
  );
  expect(checkedAcked).toBeGreaterThan(1000);
  // acknowledged ⊆ stored, and (after the final drain) nothing stored that was never sent.
  expect([...acked].filter((id) => !ids.has(id))).toEqual([]);
  expect(ids.size).toBe(acked.size);
  const generated = kiosks.reduce((s, k) => s + k.stats.generated, 0);
  expect(acked.size).toBe(generated);
}

it('the daemon (Store.durable group commit), kill -9 while kiosks post, 20 rounds: acknowledged ⊆ stored, database intact', async () => {
  const port = await freePort();
  const { dir, devices } = setup();
  const daemon = new TestDaemon({
    dir,
    config: { devices, http: { listen: `127.0.0.1:${port}`, metrics: false } },
  });
  await crashRounds(
    {
      dataDir: daemon.dataDir,
      start: () => daemon.start(),
      kill: () => daemon.kill(),
      stop: () => daemon.stop('SIGTERM'),
    },
    port,
    20,
    'daemon',
  );
}, 90_000);

it("'wal-fsync' durability, kill -9 while kiosks post, 12 rounds: acknowledged ⊆ stored, database intact", async () => {
  const port = await freePort();
  const { dir } = setup();
  await crashRounds(new IngestServer(dir, port, 'wal-fsync'), port, 12, 'wal-fsync');
}, 60_000);
