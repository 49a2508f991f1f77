// Shared parts of the regency bench: a store per run (SQLite file or a PostgreSQL database of
// its own), the real collector as a child process, the broker session it resumes, and a
// recording of real simulator traffic to replay.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import pg from 'pg';
import { stringify } from 'yaml';
import { sleep } from './_lib.mjs';

export const PREFIX = 'kampung/v1';
export const PG_ADMIN = process.env.KGW_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ENVELOPE = /^kampung\/v1\/[0-9]{10}\/(health|usage|event|outage)$/;

async function admin(text) {
  const c = new pg.Client({ connectionString: PG_ADMIN });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

/** One run's store: a SQLite file under dir, or a fresh PostgreSQL database (dropped by drop()). */
export class BenchStore {
  constructor(dialect, dir, tag) {
    this.dialect = dialect;
    this.dataDir = join(dir, 'data');
    this.dbName = `kgw_bench_${process.pid}_${tag.replace(/[^a-z0-9_]/g, "_")}`;
    mkdirSync(this.dataDir, { recursive: true });
  }

  get url() {
    if (this.dialect !== 'postgres') return '';
    const u = new URL(PG_ADMIN);
    u.pathname = `/${this.dbName}`;
    return u.toString();
  }

  async create() {
    if (this.dialect === 'postgres') await admin(`CREATE DATABASE ${this.dbName}`);
  }

  async drop() {
    await this.reader?.close();
    this.reader = undefined;
    if (this.dialect === 'postgres') await admin(`DROP DATABASE IF EXISTS ${this.dbName} WITH (FORCE)`);
  }

  /** A read connection kept open for polling (as a dashboard would query). */
  async query(text, params = []) {
    if (!this.reader) {
      if (this.dialect === 'sqlite') {
        const db = new Database(join(this.dataDir, 'regency.db'), { readonly: true, fileMustExist: true });
        db.pragma('busy_timeout = 5000');
        this.reader = { all: async (t, p) => db.prepare(t).all(...p), close: async () => db.close() };
      } else {
        const c = new pg.Client({ connectionString: this.url });
        await c.connect();
        this.reader = { all: async (t, p) => (await c.query(t, p)).rows, close: () => c.end() };
      }
    }
    return this.reader.all(text, params);
  }

  /** Envelopes the store holds plus redeliveries it recognised (0 until the schema exists). */
  async settled() {
    try {
      const rows = await this.query("SELECT name, value FROM counters WHERE name IN ('messages', 'duplicates')");
      return rows.reduce((s, r) => s + Number(r.value), 0);
    } catch {
      await this.reader?.close().catch(() => undefined);
      this.reader = undefined;
      return 0;
    }
  }
}

/** The collector's config: one store, one broker, its own client id (and shared group). */
export function collectorConfig(store, brokerUrl, clientId, extra = {}) {
  return {
    regency: { name: 'Bench', ...(extra.villagesFile ? { villages_file: extra.villagesFile } : {}) },
    data_dir: store.dataDir,
    database: { url: store.url },
    log_level: 'warn',
    http: { listen: '127.0.0.1:0', metrics: true },
    mqtt: {
      url: brokerUrl,
      topic_prefix: PREFIX,
      client_id: clientId,
      reconnect_s: 0.5,
      ...(extra.sharedGroup ? { shared_group: extra.sharedGroup } : {}),
    },
    silent_after_s: 180,
  };
}

/** `kampung-gw regency run` as a child process; resolves once its MQTT session is up. */
export async function startCollector(dir, config) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${config.mqtt.client_id}.yaml`);
  writeFileSync(file, stringify({ ...config, log_level: 'info' }));
  // KGW_BENCH_COLLECTOR_FLAGS: node flags for the collectors, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p".
  const flags = (process.env.KGW_BENCH_COLLECTOR_FLAGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...flags, 'dist/main.js', 'regency', 'run', '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => {
    // Only the start-up lines are of interest; keep the buffer small afterwards.
    if (out.length < 100_000) out += d;
  });
  proc.stderr.on('data', (d) => (err += d));
  const end = Date.now() + 60_000;
  while (!/"msg":"mqtt connected"/.test(out)) {
    if (proc.exitCode !== null) throw new Error(`collector exited ${proc.exitCode}: ${err}${out.slice(-2000)}`);
    if (Date.now() > end) throw new Error('collector did not connect in 60 s');
    await sleep(50);
  }
  return {
    pid: proc.pid,
    stop: () =>
      new Promise((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

/**
 * Creates the collector's persistent session at the broker (same client id and filter as
 * `regency run`), so whatever is published before the collector starts queues for it.
 */
export async function primeSession(brokerUrl, clientId) {
  const c = await mqtt.connectAsync(brokerUrl, {
    protocolVersion: 5,
    clientId,
    clean: false,
    properties: { sessionExpiryInterval: 3600 },
    reconnectPeriod: 0,
  });
  await c.subscribeAsync({ [`${PREFIX}/+/#`]: { qos: 1, rh: 0 } });
  await c.endAsync(false);
}

/** Publishes [topic, payload] pairs at QoS 1, at most `window` unacknowledged at once. */
export async function replay(brokerUrl, messages, window = 500) {
  const c = await mqtt.connectAsync(brokerUrl, { protocolVersion: 5, reconnectPeriod: 0 });
  let next = 0;
  const worker = async () => {
    while (next < messages.length) {
      const [topic, payload] = messages[next++];
      await c.publishAsync(topic, payload, { qos: 1 });
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  await c.endAsync(false);
}

/**
 * Records `count` envelopes from a real simulator run (`kampung-gw fleet-sim`): health, usage,
 * events and outage records of many villages, live and replayed backlog, random faults on.
 */
export async function recordSimulator(brokerUrl, { count, villages, speed }) {
  const seen = new Set();
  const messages = [];
  const sub = await mqtt.connectAsync(brokerUrl, { protocolVersion: 5, reconnectPeriod: 0 });
  let done;
  const full = new Promise((r) => (done = r));
  sub.on('message', (topic, payload) => {
    if (messages.length >= count || !ENVELOPE.test(topic)) return;
    const id = /"id":"([^"]+)"/.exec(payload.toString())?.[1];
    if (!id || seen.has(id)) return;
    seen.add(id);
    messages.push([topic, Buffer.from(payload)]);
    if (messages.length >= count) done();
  });
  await sub.subscribeAsync({ [`${PREFIX}/+/#`]: { qos: 1 } });
  const sim = spawn(
    process.execPath,
    [
      ...['dist/main.js', 'fleet-sim', '--mqtt', brokerUrl, '--villages', String(villages)],
      ...['--speed', String(speed), '--connect-delay', '0', '--seed', '7', '--fault-rate', '20'],
    ],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  const timeout = setTimeout(() => done(), 180_000);
  await full;
  clearTimeout(timeout);
  sim.kill('SIGKILL');
  await sub.endAsync(true);
  return messages;
}
