import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { MAIN_JS, REPO_ROOT } from '../helpers/daemon.js';
import { waitFor } from '../helpers/net.js';
import type { Received } from '../report/subscriber.js';

export interface Summary {
  villages: number;
  published: Record<string, number>;
  resent: number;
}

/** The built `kampung-gw fleet-sim` as a child process; stdout's last line is the summary. */
export class FleetSimProcess {
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';
  private readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    this.proc = spawn(process.execPath, [MAIN_JS, 'fleet-sim', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout?.on('data', (d: Buffer) => {
      this.stdout += d.toString();
    });
    this.proc.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((r) => this.proc.once('exit', (code) => r(code)));
  }

  /** Resolves once the duration is over and every village has drained its outbox. */
  async drained(timeoutMs = 60_000): Promise<void> {
    await waitFor(() => this.stderr.includes('every village connected and drained'), timeoutMs);
  }

  async summary(): Promise<Summary> {
    const code = await this.exited;
    if (code !== 0) throw new Error(`fleet-sim exited ${code}: ${this.stderr}`);
    const last = this.stdout.trim().split('\n').at(-1) ?? '';
    return JSON.parse(last) as Summary;
  }

  /** SIGTERM: ends the linger early; the summary is still printed. */
  async stop(): Promise<Summary> {
    this.proc.kill('SIGTERM');
    return this.summary();
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

/** The non-retained envelopes among what a subscriber received. */
export function envelopes(msgs: Received[]): Received[] {
  return msgs.filter((m) => !m.retain && m.json.v === 1 && typeof m.json.id === 'string');
}

export function kindOf(topic: string): string {
  return topic.split('/').slice(3).join('/');
}

/** Validator by the AsyncAPI document's own schemas, per topic under `{prefix}/{code}/`. */
export function asyncApiValidator(): (m: Received) => {
  schema: string | undefined;
  ok: boolean;
  errors: unknown;
} {
  const doc = parse(readFileSync(join(REPO_ROOT, 'docs', 'asyncapi.yaml'), 'utf8')) as {
    components: { schemas: Record<string, unknown> };
  };
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addSchema({ components: { schemas: doc.components.schemas } }, 'asyncapi');
  const byKind = (k: string): string | undefined => {
    if (k === 'status') return 'StatusPayload';
    if (k === 'link') return 'LinkPayload';
    if (k.startsWith('device/')) return 'DevicePayload';
    if (k === 'health') return 'HealthMessage';
    if (k === 'usage') return 'UsageMessage';
    if (k === 'outage') return 'OutageMessage';
    if (k === 'event') return 'EventMessage';
    if (/^cmd\/[^/]+\/reply$/.test(k)) return 'CommandReply';
    if (/^cmd\/[^/]+$/.test(k)) return 'CommandRequest';
    return undefined;
  };
  return (m) => {
    const schema = byKind(kindOf(m.topic));
    const v = schema ? ajv.getSchema(`asyncapi#/components/schemas/${schema}`) : undefined;
    if (!v) return { schema, ok: false, errors: 'no schema' };
    return { schema, ok: v(m.json) as boolean, errors: v.errors };
  };
}
