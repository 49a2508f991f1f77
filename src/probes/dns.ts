import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
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

/**
 * Asks the configured server directly over UDP, not the system resolver: the point is to
 * tell whether THAT server answers. A connected socket also receives the ICMP "port
 * unreachable" of a host without a DNS server, which we report as refused.
 */
class DnsProbe implements Probe {
  readonly spec: DnsSpec;
  private readonly deps: ProbeDeps;

  constructor(spec: DnsSpec, deps: ProbeDeps) {
    this.spec = spec;
    this.deps = deps;
  }

  run(signal: AbortSignal): Promise<ProbeResult> {
    const { clock } = this.deps;
    const server = this.spec.server ?? '';
    // The caller's signal carries the deadline (spec.timeout_ms): a timer of our own would
    // wake the process once more per round, even when cleared (Node keeps its timer armed).
    const deadline = signal;
    const id = randomInt(0, 0x10000);
    const query = buildQuery(id, this.spec.query ?? '');
    const started = clock.monoMs();
    return new Promise((resolve) => {
      const socket = createSocket(isIPv6(server) ? 'udp6' : 'udp4');
      let done = false;
      const finish = (r: ProbeResult) => {
        if (done) return;
        done = true;
        deadline.removeEventListener('abort', onAbort);
        socket.close();
        resolve(r);
      };
      const onAbort = () => finish({ outcome: 'timeout', latency_ms: null, fields: {} });
      if (deadline.aborted) return onAbort();
      deadline.addEventListener('abort', onAbort, { once: true });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? 'ERROR';
        if (code === 'ECONNREFUSED')
          finish({ outcome: 'refused', latency_ms: null, fields: { error: 'port_unreachable' } });
        else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
          finish({ outcome: 'unreachable', latency_ms: null, fields: { error: 'unresolved' } });
        else finish({ outcome: 'unreachable', latency_ms: null, fields: { error: code } });
      });
      socket.on('message', (msg) => {
        const h = parseHeader(msg);
        if (!h || h.id !== id) return; // stray or spoofed datagram: keep waiting
        const latency = clock.monoMs() - started;
        const fields = { rcode: h.rcode, answers: h.answers };
        if (h.rcode === 'NOERROR' && h.answers > 0) finish({ outcome: 'ok', latency_ms: latency, fields });
        else if (h.rcode === 'REFUSED') finish({ outcome: 'refused', latency_ms: latency, fields });
        else finish({ outcome: 'bad_response', latency_ms: latency, fields });
      });
      socket.connect(this.spec.port ?? 53, server, () => {
        if (!done) socket.send(query);
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
