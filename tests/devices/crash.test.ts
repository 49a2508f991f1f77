import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { KioskSim } from '../../src/sim/kiosk-sim.js';
import { TestDaemon } from '../helpers/daemon.js';
import { freePort, sleep, waitFor } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';

const ROUNDS = 20;
const KIOSKS = 4;
const tmp = tempDir('kgw-crash-');
afterAll(() => tmp.cleanup());

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

it(`kill -9 while kiosks post, ${ROUNDS} rounds: every acknowledged id is stored, database intact`, async () => {
  const port = await freePort();
  const devices = Array.from({ length: KIOSKS }, (_, i) => {
    const id = `adm-${i + 1}`;
    const file = join(tmp.path, `${id}.token`);
    writeFileSync(file, `token-${id}-crash-test\n`);
    return { id, name: `Anjungan ${i + 1}`, kind: 'kiosk', token_file: file };
  });
  const daemon = new TestDaemon({
    dir: tmp.path,
    config: { devices, http: { listen: `127.0.0.1:${port}`, metrics: false } },
  });
  const kiosks = devices.map(
    (d) =>
      new KioskSim({
        gateway: `http://127.0.0.1:${port}`,
        deviceId: d.id,
        token: `token-${d.id}-crash-test`,
        rate: 300,
        batchMax: 20,
        heartbeatMs: 0,
        healthPort: null,
        requestTimeoutMs: 2000,
        // Back at work as soon as the daemon is: every round must kill it under load.
        maxBackoffMs: 100,
      }),
  );
  await Promise.all(kiosks.map((k) => k.start()));
  let checkedAcked = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      await daemon.start();
      // Kill only while kiosks are posting: wait for fresh acknowledgements first.
      const before = kiosks.reduce((s, k) => s + k.stats.acknowledged, 0);
      await waitFor(() => kiosks.reduce((s, k) => s + k.stats.acknowledged, 0) > before, 10_000, 5);
      await sleep(Math.floor(Math.random() * 400));
      await daemon.kill();
      const acked = kiosks.flatMap((k) => [...k.acked]);
      const { ids, integrity } = storedIds(daemon.dataDir);
      expect(integrity).toBe('ok');
      const lost = acked.filter((id) => !ids.has(id));
      expect(lost, `round ${round}`).toEqual([]);
      checkedAcked = acked.length;
    }
    // Last start: every kiosk delivers what it still holds (same ids), then a clean stop.
    for (const k of kiosks) k.pause();
    await daemon.start();
    const drained = await Promise.all(kiosks.map((k) => k.drain(15_000)));
    expect(drained.every(Boolean)).toBe(true);
  } finally {
    await Promise.all(kiosks.map((k) => k.stop()));
    await daemon.stop('SIGTERM');
  }
  const acked = new Set(kiosks.flatMap((k) => [...k.acked]));
  const { ids, integrity } = storedIds(daemon.dataDir);
  expect(integrity).toBe('ok');
  const duplicates = kiosks.reduce((s, k) => s + k.stats.duplicates, 0);
  process.stdout.write(
    `crash rounds: ${ROUNDS}, acknowledged before the last kill: ${checkedAcked}, total: ${acked.size}, ` +
      `re-sent ids answered as duplicates: ${duplicates}\n`,
  );
  expect(checkedAcked).toBeGreaterThan(1000);
  // acknowledged ⊆ stored, and (after the final drain) nothing stored that was never sent.
  expect([...acked].filter((id) => !ids.has(id))).toEqual([]);
  expect(ids.size).toBe(acked.size);
  const generated = kiosks.reduce((s, k) => s + k.stats.generated, 0);
  expect(acked.size).toBe(generated);
}, 90_000);
