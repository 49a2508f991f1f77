import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { Durability } from '../../src/devices/usage-ingest.js';
import { auth, events, type Harness, harness } from './harness.js';

/** A real full disk: the data dir is a tiny tmpfs (root only). */
function canMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it.skipIf(!canMount()).each<Durability>(['full', 'wal-fsync'])(
  '%s: a full disk answers 507, acknowledges nothing it did not store, and recovers',
  async (durability) => {
    h = await harness([{ id: 'adm-1' }], {
      durability,
      prepare: (dir) => {
        mkdirSync(join(dir, 'data'));
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=640k', 'tmpfs', join(dir, 'data')]);
      },
      release: (dir) => execFileSync('umount', ['-l', join(dir, 'data')]),
    });
    const app = h.app;
    const acked: string[] = [];
    let refused: string[] | undefined;
    for (let i = 0; i < 400 && !refused; i++) {
      const batch = events(100, `surat-keterangan-domisili-${'x'.repeat(30)}`);
      const r = await app.inject({
        method: 'POST',
        url: '/api/v1/devices/adm-1/events',
        headers: auth('adm-1'),
        payload: { events: batch },
      });
      if (r.statusCode === 202) acked.push(...batch.map((e) => e.id));
      else {
        expect(r.statusCode).toBe(507);
        expect(r.json().error).toBe('GW_ERR_STORE_FULL');
        refused = batch.map((e) => e.id);
      }
    }
    expect(refused, 'the disk never filled up').toBeDefined();
    expect(acked.length).toBeGreaterThan(0);
    // The process still answers, every acknowledged id is there, none of the refused batch.
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect(h.devices.usage.countIds(acked)).toBe(acked.length);
    expect(h.devices.usage.countIds(refused ?? [])).toBe(0);
    // Room again: the kiosk's retry of the same ids is stored once.
    execFileSync('mount', ['-o', 'remount,size=16m', join(h.dir, 'data')]);
    const retry = await app.inject({
      method: 'POST',
      url: '/api/v1/devices/adm-1/events',
      headers: auth('adm-1'),
      payload: { events: (refused ?? []).map((id) => ({ id, type: 'service_use', service: 'ktp-el' })) },
    });
    expect(retry.json()).toEqual({ accepted: 100, duplicates: 0 });
    expect(h.store.db.pragma('integrity_check', { simple: true })).toBe('ok');
  },
);
