import { Socket } from 'node:net';
import { HOST, PORT } from './fields.js';
import { defineProbeType, type Probe, type ProbeDeps, type ProbeResult, type SpecOf } from './types.js';

const FIELDS = { host: HOST, port: PORT };
type TcpSpec = SpecOf<typeof FIELDS>;

const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL']);
const UNRESOLVED = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME']);

/** A TCP connect: refused, unreachable and timeout told apart (Telegraf net_response style). */
class TcpProbe implements Probe {
  readonly spec: TcpSpec;
  private readonly deps: ProbeDeps;

  constructor(spec: TcpSpec, deps: ProbeDeps) {
    this.spec = spec;
    this.deps = deps;
  }

  run(signal: AbortSignal): Promise<ProbeResult> {
    const { clock } = this.deps;
    // The caller's signal carries the deadline (spec.timeout_ms): a timer of our own would
    // wake the process once more per round, even when cleared (Node keeps its timer armed).
    const deadline = signal;
    const started = clock.monoMs();
    return new Promise((resolve) => {
      const socket = new Socket();
      const finish = (r: ProbeResult) => {
        deadline.removeEventListener('abort', onAbort);
        socket.destroy();
        resolve(r);
      };
      const onAbort = () => finish({ outcome: 'timeout', latency_ms: null, fields: {} });
      if (deadline.aborted) return onAbort();
      deadline.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () =>
        finish({ outcome: 'ok', latency_ms: clock.monoMs() - started, fields: {} }),
      );
      socket.once('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? 'ERROR';
        if (code === 'ECONNREFUSED')
          finish({ outcome: 'refused', latency_ms: clock.monoMs() - started, fields: { error: code } });
        else if (UNRESOLVED.has(code))
          finish({ outcome: 'unreachable', latency_ms: null, fields: { error: 'unresolved' } });
        else if (UNREACHABLE.has(code))
          finish({ outcome: 'unreachable', latency_ms: null, fields: { error: code } });
        else if (code === 'ETIMEDOUT')
          finish({ outcome: 'timeout', latency_ms: null, fields: { error: code } });
        else finish({ outcome: 'unreachable', latency_ms: null, fields: { error: code } });
      });
      socket.connect({ host: this.spec.host ?? '', port: this.spec.port ?? 0 });
    });
  }
}

/** `tcp`: connects to host:port (SPEC: every second by default). */
export const tcp = defineProbeType({
  type: 'tcp',
  fields: FIELDS,
  required: ['host', 'port'],
  defaults: { interval_s: 1, timeout_ms: 800 },
  detail: [],
  create: (spec, deps) => new TcpProbe(spec, deps),
});
