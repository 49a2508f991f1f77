import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Type } from '@sinclair/typebox';
import { defineProbeType, type Probe, type ProbeDeps, type ProbeResult, type SpecOf } from './types.js';

const FIELDS = { url: Type.String({ pattern: '^https?://' }) };
type HttpSpec = SpecOf<typeof FIELDS>;

/** Read at most this much of the body: the probe wants the status, not the content. */
const BODY_CAP = 64 * 1024;

const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL']);
const UNRESOLVED = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME']);
/** OpenSSL/Node verification and handshake codes: named in fields.tls_error. */
const TLS = /CERT|SELF_SIGNED|ALTNAME|UNABLE_TO_(GET|VERIFY)|TLS|SSL|ERR_SSL/;

/** GET the URL: 2xx/3xx is ok, other statuses are bad_response; TLS failures are named. */
class HttpProbe implements Probe {
  readonly spec: HttpSpec;
  private readonly deps: ProbeDeps;

  constructor(spec: HttpSpec, deps: ProbeDeps) {
    this.spec = spec;
    this.deps = deps;
  }

  run(signal: AbortSignal): Promise<ProbeResult> {
    const { clock } = this.deps;
    const url = new URL(this.spec.url ?? '');
    // The caller's signal carries the deadline (spec.timeout_ms): a timer of our own would
    // wake the process once more per round, even when cleared (Node keeps its timer armed).
    const deadline = signal;
    const started = clock.monoMs();
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      let done = false;
      const finish = (r: ProbeResult) => {
        if (done) return;
        done = true;
        req.destroy();
        resolve(r);
      };
      const req = request(
        url,
        {
          method: 'GET',
          signal: deadline,
          agent: false,
          headers: { 'user-agent': 'kampung-gateway-probe', connection: 'close' },
        },
        (res: IncomingMessage) => {
          const latency = clock.monoMs() - started;
          const status = res.statusCode ?? 0;
          let read = 0;
          const settle = () =>
            finish({
              outcome: status >= 200 && status < 400 ? 'ok' : 'bad_response',
              latency_ms: latency,
              fields: { status, bytes: read },
            });
          res.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read >= BODY_CAP) settle();
          });
          res.once('end', settle);
          res.once('error', settle);
        },
      );
      req.once('error', (err: NodeJS.ErrnoException) => {
        const code = String(err.code ?? err.name ?? 'ERROR');
        if (deadline.aborted || code === 'ABORT_ERR')
          finish({ outcome: 'timeout', latency_ms: null, fields: {} });
        else if (code === 'ECONNREFUSED')
          finish({ outcome: 'refused', latency_ms: null, fields: { error: code } });
        else if (UNRESOLVED.has(code))
          finish({ outcome: 'unreachable', latency_ms: null, fields: { error: 'unresolved' } });
        else if (UNREACHABLE.has(code))
          finish({ outcome: 'unreachable', latency_ms: null, fields: { error: code } });
        else if (TLS.test(code))
          finish({ outcome: 'bad_response', latency_ms: null, fields: { tls_error: code } });
        else if (code === 'ETIMEDOUT')
          finish({ outcome: 'timeout', latency_ms: null, fields: { error: code } });
        else finish({ outcome: 'bad_response', latency_ms: null, fields: { error: code } });
      });
      req.end();
    });
  }
}

/** `http`: GETs `url` (http or https). */
export const http = defineProbeType({
  type: 'http',
  fields: FIELDS,
  required: ['url'],
  defaults: { interval_s: 10, timeout_ms: 5000 },
  detail: ['tls_error', 'status'],
  create: (spec, deps) => new HttpProbe(spec, deps),
});
