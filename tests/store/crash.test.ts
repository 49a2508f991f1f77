import { spawn } from 'node:child_process';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { DB_FILE } from '../../src/store/store.js';
import { REPO_ROOT } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const WRITER = join(REPO_ROOT, 'tests/fixtures/store-writer.mjs');
const ROUNDS = 40;
const tmp = tempDir('kgw-crash-');
afterAll(() => tmp.cleanup());

/** Runs the writer, SIGKILLs it after `ms`, returns the highest N it reported as committed. */
function runAndKill(ms: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, tmp.path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let acked = 0;
    let started = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n');
      out = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('ack ')) acked = Number(l.slice(4));
      if (!started && acked > 0) {
        started = true;
        setTimeout(() => child.kill('SIGKILL'), ms);
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited ${code}: ${err}`));
      else resolve(acked);
    });
  });
}

describe('kill -9 in the middle of writes', () => {
  it(`leaves a database that opens, passes integrity_check and keeps every acknowledged row (${ROUNDS} rounds)`, async () => {
    let maxAcked = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const acked = await runAndKill(20 + Math.floor(Math.random() * 250));
      expect(acked).toBeGreaterThanOrEqual(maxAcked);
      maxAcked = acked;
      const db = new BetterSqlite3(join(tmp.path, DB_FILE));
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const row = db.prepare('SELECT COUNT(*) AS n, MAX(n) AS top FROM acked').get() as {
        n: number;
        top: number;
      };
      // Every acknowledged row is there, and rows are contiguous (no half-applied batch).
      expect(row.top).toBeGreaterThanOrEqual(acked);
      expect(row.n).toBe(row.top);
      db.close();
    }
    expect(maxAcked).toBeGreaterThan(ROUNDS);
  }, 120_000);
});
