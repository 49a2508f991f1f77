import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns';
import { isIP } from 'node:net';
import { Type } from '@sinclair/typebox';
import { PORT } from './fields.js';
import { defineProbeType, type Probe, type ProbeDeps, type ProbeResult, type SpecOf } from './types.js';

const FIELDS = {
  server: Type.String({ minLength: 1, maxLength: 253 }),
  query: Type.String({ minLength: 1, maxLength: 253 }),
  port: PORT,
};
type DnsSpec = SpecOf<typeof FIELDS>;

const RCODES: Record<number, string> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
};

/** A DNS query for an A record with recursion desired (RFC 1035 §4.1). */
export function buildQuery(id: number, name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const label of labels) {
    const b = Buffer.from(label, 'ascii');
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0, 0, 1, 0, 1]));
  return Buffer.concat(parts);
}

export interface DnsAnswer {
  id: number;
  rcode: string;
  answers: number;
}

/** Reads only the header: the id, whether it is a response, the rcode and the answer count. */
export function parseHeader(msg: Buffer): DnsAnswer | null {
  if (msg.length < 12 || (msg[2] ?? 0) < 0x80) return null;
  const code = (msg[3] ?? 0) & 0x0f;
  return { id: msg.readUInt16BE(0), rcode: RCODES[code] ?? `RCODE${code}`, answers: msg.readUInt16BE(6) };
}

const UNRESOLVED = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'ENODATA']);

type Resolved = { address: string; family: number } | { error: string };

/** The system resolver's answer for a server given by name; its failure is a result. */
function resolveServer(name: string): Promise<Resolved> {
  return new Promise((resolve) => {
    lookup(name, (err, address, family) => {
      if (!err) resolve({ address, family });
      else resolve({ error: UNRESOLVED.has(err.code ?? '') ? 'unresolved' : (err.code ?? 'ERROR') });
    });
  });
}

/**
 * Asks the configured server directly over UDP, not the system resolver: the point is to
 * tell whether THAT server answers. A connected socket also receives the ICMP "port
 * unreachable" of a host without a DNS server, which we report as refused.
 *
 * A server given by host name is looked up with the system resolver at every run, inside the
 * run's deadline (an address that changes is followed); a name that does not resolve is the
 * outcome `unreachable` with `error: unresolved`. getaddrinfo cannot be cancelled, so a lookup
 * that outlives its run is reused by the next run instead of starting another one: a dead
 * resolver holds at most one libuv thread per probe.
 */
class DnsProbe implements Probe {
  readonly spec: DnsSpec;
  private readonly deps: ProbeDeps;
  private pendingLookup: Promise<Resolved> | undefined;

  constructor(spec: DnsSpec, deps: ProbeDeps) {
    this.spec = spec;
    this.deps = deps;
  }

  private resolve(name: string): Promise<Resolved> {
    if (!this.pendingLookup) {
      const p = resolveServer(name);
      this.pendingLookup = p;
      void p.then(() => {
        if (this.pendingLookup === p) this.pendingLookup = undefined;
      });
    }
    return this.pendingLookup;
  }

  run(signal: AbortSignal): Promise<ProbeResult> {
    const { clock } = this.deps;
    const server = this.spec.server ?? '';
    const port = this.spec.port ?? 53;
    // The caller's signal carries the deadline (spec.timeout_ms): a timer of our own would
    // wake the process once more per round, even when cleared (Node keeps its timer armed).
    const deadline = signal;
    const id = randomInt(0, 0x10000);
    const query = buildQuery(id, this.spec.query ?? '');
    return new Promise((resolve) => {
      let socket: Socket | undefined;
      let started = 0;
      let done = false;
      const finish = (r: ProbeResult) => {
        if (done) return;
        done = true;
        deadline.removeEventListener('abort', onAbort);
        socket?.close();
        resolve(r);
      };
      const onAbort = () =>
        finish({ outcome: 'timeout', latency_ms: null, fields: socket ? {} : { error: 'resolve_timeout' } });
      const onError = (err: NodeJS.ErrnoException) => {
        const code = err.code ?? 'ERROR';
        if (code === 'ECONNREFUSED')
          finish({ outcome: 'refused', latency_ms: null, fields: { error: 'port_unreachable' } });
        else finish({ outcome: 'unreachable', latency_ms: null, fields: { error: code } });
      };
      const ask = (address: string, family: number) => {
        if (done) return;
        const s = createSocket(family === 6 ? 'udp6' : 'udp4');
        socket = s;
        s.on('error', onError);
        s.on('message', (msg) => {
          const h = parseHeader(msg);
          if (!h || h.id !== id) return; // stray or spoofed datagram: keep waiting
          const latency = clock.monoMs() - started;
          const fields = { rcode: h.rcode, answers: h.answers };
          if (h.rcode === 'NOERROR' && h.answers > 0) finish({ outcome: 'ok', latency_ms: latency, fields });
          else if (h.rcode === 'REFUSED') finish({ outcome: 'refused', latency_ms: latency, fields });
          else finish({ outcome: 'bad_response', latency_ms: latency, fields });
        });
        started = clock.monoMs();
        // With a callback, dgram reports a failed connect only to the callback, never as 'error'.
        s.connect(port, address, (err?: Error) => {
          if (err) onError(err as NodeJS.ErrnoException);
          else if (!done) s.send(query);
        });
      };
      if (deadline.aborted) return onAbort();
      deadline.addEventListener('abort', onAbort, { once: true });
      const family = isIP(server);
      if (family !== 0) return ask(server, family);
      void this.resolve(server).then((r) => {
        if ('error' in r) finish({ outcome: 'unreachable', latency_ms: null, fields: { error: r.error } });
        else ask(r.address, r.family);
      });
    });
  }
}

/** `dns`: asks `server` (port 53 unless `port`) for the A record of `query`. */
export const dns = defineProbeType({
  type: 'dns',
  fields: FIELDS,
  required: ['server', 'query'],
  defaults: { interval_s: 10, timeout_ms: 2000 },
  detail: [{ key: 'rcode', unless: 'NOERROR' }],
  create: (spec, deps) => new DnsProbe(spec, deps),
});
