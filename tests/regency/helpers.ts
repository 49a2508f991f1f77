import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { pino } from 'pino';
import { stringify } from 'yaml';
import type { Config } from '../../src/config/schema.js';
import { classify } from '../../src/regency/classify.js';
import { validateRegencyConfigText } from '../../src/regency/config.js';
import type { RegencyConfig } from '../../src/regency/config-schema.js';
import type { Received } from '../../src/regency/store/ingest-repo.js';
import { type OpenedDb, openRegencyDb } from '../../src/regency/store/open-db.js';
import { type Envelope, encodeEnvelope, uuidv7 } from '../../src/report/envelope.js';
import { buildHealth } from '../../src/report/health.js';
import { type MessageClass, Topics } from '../../src/report/topics.js';
import { emptyStatus } from '../../src/status/defaults.js';
import { MAIN_JS } from '../helpers/daemon.js';
import { waitFor } from '../helpers/net.js';

const ALL_DIALECTS = ['sqlite', 'postgres'] as const;
export type TestDialect = (typeof ALL_DIALECTS)[number];

/**
 * The stores every regency test runs on: both, unless KGW_TEST_DIALECTS names fewer. The
 * Node 22 and 24 passes of `.ci/run` run SQLite only (scripts/test-runtimes.sh): what changes
 * with the runtime is the native SQLite addon, while the PostgreSQL driver is plain JavaScript,
 * and both stores run in the Node 20 and the year-ahead passes.
 */
export const DIALECTS: readonly TestDialect[] = (() => {
  const named = process.env.KGW_TEST_DIALECTS;
  if (!named) return ALL_DIALECTS;
  const picked = ALL_DIALECTS.filter((d) => named.split(',').includes(d));
  if (picked.length === 0) throw new Error(`KGW_TEST_DIALECTS names no store: ${named}`);
  return picked;
})();

/** Whether the PostgreSQL-only tests (shared subscriptions) run in this pass. */
export const POSTGRES = DIALECTS.includes('postgres');

export const PG_ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * The store of one test file: a SQLite file in the test's folder, or a PostgreSQL database
 * of its own (created here, dropped at cleanup) on the machine's server (127.0.0.1:5432).
 */
export class TestStore {
  readonly dialect: TestDialect;
  readonly dataDir: string;
  readonly dbName: string;

  constructor(dialect: TestDialect, dir: string) {
    this.dialect = dialect;
    this.dataDir = join(dir, 'data');
    this.dbName = `kgw_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  }

  get url(): string {
    return this.dialect === 'postgres' ? `postgres://postgres@127.0.0.1:5432/${this.dbName}` : '';
  }

  async create(): Promise<void> {
    if (this.dialect === 'postgres') await adminQuery(`CREATE DATABASE ${this.dbName}`);
  }

  /**
   * Holds the store's write lock from outside (as another writer would) until the returned
   * release is called: the collector keeps receiving but cannot commit, so it holds
   * unacknowledged messages — the window a kill -9 must not lose anything in.
   */
  async lockWrites(): Promise<() => Promise<void>> {
    if (this.dialect === 'postgres') {
      const c = new pg.Client({ connectionString: this.url });
      await c.connect();
      // A commit in flight may hold one of these tables and want the other: PostgreSQL then
      // aborts one side (40P01). When it picks this lock, take it again; when it picks the
      // collector's commit, the collector retries that batch, as after any store error.
      for (let attempt = 1; ; attempt++) {
        await c.query('BEGIN');
        try {
          await c.query('LOCK TABLE counters, messages IN EXCLUSIVE MODE');
          break;
        } catch (err) {
          await c.query('ROLLBACK');
          if ((err as { code?: string }).code !== '40P01' || attempt >= 20) {
            await c.end();
            throw err;
          }
        }
      }
      return async () => {
        await c.query('ROLLBACK');
        await c.end();
      };
    }
    const db = new Database(join(this.dataDir, 'regency.db'));
    db.pragma('busy_timeout = 5000');
    db.exec('BEGIN IMMEDIATE');
    return async () => {
      db.exec('ROLLBACK');
      db.close();
    };
  }

  async drop(): Promise<void> {
    if (this.dialect === 'postgres') await adminQuery(`DROP DATABASE IF EXISTS ${this.dbName} WITH (FORCE)`);
  }
}

/** One SQL statement against the test's store, as another client would run it. */
export async function queryStore<T>(store: TestStore, text: string): Promise<T[]> {
  if (store.dialect === 'sqlite') {
    const db = new Database(join(store.dataDir, 'regency.db'));
    db.pragma('busy_timeout = 5000');
    try {
      const st = db.prepare(text);
      if (st.reader) return st.all() as T[];
      st.run();
      return [];
    } finally {
      db.close();
    }
  }
  const c = new pg.Client({ connectionString: store.url });
  await c.connect();
  try {
    return (await c.query(text)).rows as T[];
  } finally {
    await c.end();
  }
}

async function adminQuery(text: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_ADMIN });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

export function regencyConfig(store: TestStore, brokerUrl: string, extra: Record<string, unknown> = {}) {
  return {
    regency: { name: 'Kabupaten Uji' },
    data_dir: store.dataDir,
    database: { url: store.url },
    log_level: 'info',
    http: { listen: '127.0.0.1:0', metrics: true },
    mqtt: { url: brokerUrl, client_id: `kgw-regency-${randomBytes(3).toString('hex')}`, reconnect_s: 0.2 },
    silent_after_s: 180,
    ...extra,
  };
}

/** A validated collector config for the test store, with no broker behind it. */
export function testConfig(
  store: TestStore,
  dir: string,
  extra: Record<string, unknown> = {},
): RegencyConfig {
  const r = validateRegencyConfigText(
    stringify(regencyConfig(store, 'mqtt://127.0.0.1:1', extra)),
    `${dir}/r.yaml`,
  );
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

/** The test store opened as the collector opens it (migrated), with no broker behind it. */
export async function openTestDb(store: TestStore, dir: string): Promise<OpenedDb> {
  return openRegencyDb(testConfig(store, dir), pino({ level: 'silent' }));
}

export type LogLine = Record<string, unknown> & { msg?: string };

/** `kampung-gw regency run` from dist/, as a child process. */
export class RegencyDaemon {
  readonly configPath: string;
  proc: ChildProcess | undefined;
  port = 0;
  logs: LogLine[] = [];
  stderr = '';
  /** The session cookie and CSRF token after `login()`; sent by `http()`. */
  cookie = '';
  csrf = '';

  constructor(dir: string, config: Record<string, unknown>) {
    mkdirSync(dir, { recursive: true });
    this.configPath = join(dir, 'regency.yaml');
    writeFileSync(this.configPath, stringify(config));
  }

  async start(): Promise<void> {
    this.logs = [];
    const proc = spawn(process.execPath, [MAIN_JS, 'regency', 'run', '--config', this.configPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    let buf = '';
    proc.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      for (const l of parts) {
        try {
          const j = JSON.parse(l) as LogLine;
          this.logs.push(j);
          if (j.msg === 'http listening') this.port = Number(j.port);
        } catch {
          this.stderr += `${l}\n`;
        }
      }
    });
    proc.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    await waitFor(() => {
      if (proc.exitCode !== null) throw new Error(`regency exited ${proc.exitCode}: ${this.stderr}`);
      return this.logs.some((l) => l.msg === 'mqtt connected') && this.port > 0;
    }, 20_000);
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Adds the account (regency user add, with `role`) if needed and logs in: later `http()`
   * calls carry the session.
   */
  async login(name = 'noc-test', password = 'sandi-rahasia-uji', role = 'operator'): Promise<void> {
    await regencyCli(['user', 'add', name, '--role', role, '--config', this.configPath], `${password}\n`);
    const res = await fetch(`${this.origin}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: this.origin },
      body: JSON.stringify({ name, password }),
    });
    if (res.status !== 200) throw new Error(`login ${res.status}: ${await res.text()}`);
    this.cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    this.csrf = ((await res.json()) as { csrf: string }).csrf;
  }

  async http<T = unknown>(
    path: string,
    init: RequestInit & { anonymous?: boolean } = {},
  ): Promise<{ status: number; body: T; text: string; headers: Headers }> {
    const headers = new Headers(init.headers);
    if (this.cookie && !init.anonymous && !headers.has('cookie')) headers.set('cookie', this.cookie);
    const res = await fetch(`${this.origin}${path}`, { ...init, headers });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: res.status, body: body as T, text, headers: res.headers };
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill(signal);
    });
  }

  stop(): Promise<void> {
    return this.kill('SIGTERM');
  }
}

/** Runs `kampung-gw regency ...` to completion. */
export function regencyCli(
  args: string[],
  stdin = '',
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [MAIN_JS, 'regency', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    p.on('exit', (code) => resolve({ code, out, err }));
    p.stdin.end(stdin);
  });
}

/**
 * Many villages on one MQTT connection, publishing with the gateway's own envelope code
 * (encodeEnvelope, uuidv7, buildHealth over the gateway's status object): real envelopes,
 * seq +1 per message per village. `acked` holds the ids the broker acknowledged (PUBACK).
 */
export class VillagePublisher {
  readonly acked = new Set<string>();
  private client: MqttClient | undefined;
  private readonly seqs = new Map<string, number>();
  private readonly boot = `boot-${randomBytes(4).toString('hex')}`;
  private readonly prefix: string;

  constructor(prefix = 'kampung/v1') {
    this.prefix = prefix;
  }

  async connect(url: string): Promise<void> {
    this.client = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 200 });
  }

  envelope(gw: string, kind: 'health' | 'event' | 'outage', seq?: number, override?: unknown): Envelope {
    const s = seq ?? (this.seqs.get(gw) ?? 0) + 1;
    this.seqs.set(gw, Math.max(s, this.seqs.get(gw) ?? 0));
    const data =
      override !== undefined
        ? override
        : kind === 'health'
          ? buildHealth(
              emptyStatus(
                { gateway: { id: gw, name: gw }, devices: [], cache: { upstreams: [] } } as unknown as Config,
                '0.1.0',
              ),
              {},
            )
          : { code: 'link_changed', severity: 'info', message: `test ${s}` };
    return {
      v: 1,
      gw,
      boot: this.boot,
      seq: s,
      id: uuidv7(Date.now()),
      ts: new Date().toISOString(),
      clock_synced: true,
      historical: false,
      data,
    };
  }

  /** An envelope of any class with the given data and time (a synced gateway clock). */
  envelopeAt(gw: string, data: unknown, ts: string, seq?: number): Envelope {
    const s = seq ?? (this.seqs.get(gw) ?? 0) + 1;
    this.seqs.set(gw, Math.max(s, this.seqs.get(gw) ?? 0));
    return {
      v: 1,
      gw,
      boot: this.boot,
      seq: s,
      id: uuidv7(Date.now()),
      ts,
      clock_synced: true,
      historical: false,
      data,
    };
  }

  async publish(env: Envelope, kind: MessageClass): Promise<void> {
    const topic = new Topics(this.prefix, env.gw).forClass(kind);
    await this.client?.publishAsync(topic, encodeEnvelope(env), { qos: 1 });
    this.acked.add(env.id);
  }

  async raw(topic: string, payload: string | Buffer, retain = false): Promise<void> {
    await this.client?.publishAsync(topic, payload, { qos: 1, retain });
  }

  async close(): Promise<void> {
    await this.client?.endAsync(true);
  }
}

/** The first n Banyuwangi village codes of the bundled list. */
export async function villageCodes(n: number): Promise<string[]> {
  const { VillageRegistry } = await import('../../src/regency/villages.js');
  return VillageRegistry.load(undefined)
    .all()
    .slice(0, n)
    .map((v) => v.code);
}

/**
 * Envelopes of each kind for a village, as the collector receives them at `at` (the gateway's
 * ts is `at` too): the input of the ingest, retention and partition tests.
 */
export function receivedKinds(pub: VillagePublisher) {
  const iso = (ms: number) => new Date(ms).toISOString();
  const rec = (env: Envelope, kind: string, atMs: number): Received => ({
    item: classify('kampung/v1', `kampung/v1/${env.gw}/${kind}`, Buffer.from(encodeEnvelope(env)), false),
    atMs,
  });
  return {
    health: (gw: string, at: number) => rec({ ...pub.envelope(gw, 'health'), ts: iso(at) }, 'health', at),
    event: (gw: string, at: number) => rec({ ...pub.envelope(gw, 'event'), ts: iso(at) }, 'event', at),
    outage: (gw: string, at: number) =>
      rec(
        pub.envelopeAt(
          gw,
          { start: iso(at - 600_000), end: iso(at), duration_s: 600, fault_layer: 'isp' },
          iso(at),
        ),
        'outage',
        at,
      ),
    usage: (gw: string, at: number) =>
      rec(
        pub.envelopeAt(
          gw,
          {
            device_id: 'adm-1',
            events: [{ id: `u-${at}`, type: 'service_use', service: 'ktp', at: iso(at) }],
          },
          iso(at),
        ),
        'usage',
        at,
      ),
  };
}
