import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { connect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { Type } from '@sinclair/typebox';
import { GwError } from '../core/errors.js';
import { HOST, PORT } from './fields.js';
import { defineProbeType, type Probe, type ProbeDeps, type ProbeResult, type SpecOf } from './types.js';

const FIELDS = {
  host: HOST,
  port: PORT,
  /** PEM file of the CA(s) to trust instead of the system's (a regency's own CA). */
  ca_file: Type.String({ minLength: 1 }),
  /** Days before expiry from which the result says `expiring=true`. */
  warn_days: Type.Integer({ minimum: 0, maximum: 365 }),
};
type TlsSpec = SpecOf<typeof FIELDS>;

const DAY_MS = 86_400_000;
const DEFAULT_PORT = 443;
const DEFAULT_WARN_DAYS = 14;
const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL']);
const UNRESOLVED = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME']);

const cn = (name: PeerCertificate['subject'] | undefined): string | null => {
  const v = name?.CN as string | string[] | undefined;
  return (Array.isArray(v) ? v[0] : v) ?? null;
};

/**
 * A TLS handshake with host:port: how long it took, and the server certificate's expiry,
 * subject and issuer. Verification is done here rather than by refusing the handshake, so a
 * certificate that fails it is still read and named (tls_error). Expiry is judged on the
 * daemon's wall clock: the certificate is bad from its notAfter on, whatever OpenSSL says.
 */
class TlsProbe implements Probe {
  private ca: Promise<Buffer> | undefined;

  constructor(
    readonly spec: TlsSpec,
    private readonly deps: ProbeDeps,
  ) {}

  async run(signal: AbortSignal): Promise<ProbeResult> {
    const file = this.spec.ca_file;
    // Read once, on the first run: the file is small and changes only with the config.
    this.ca ??= file ? readFile(file) : undefined;
    let ca: Buffer | undefined;
    try {
      ca = await this.ca;
    } catch (err) {
      this.ca = undefined;
      throw new GwError('GW_ERR_PROBE_BROKEN', `cannot read ca_file ${file}`, { cause: err });
    }
    return this.handshake(signal, ca);
  }

  private handshake(signal: AbortSignal, ca: Buffer | undefined): Promise<ProbeResult> {
    const { clock } = this.deps;
    const host = this.spec.host ?? '';
    const started = clock.monoMs();
    return new Promise((resolve) => {
      let socket: TLSSocket | undefined;
      let done = false;
      const finish = (r: ProbeResult) => {
        if (done) return;
        done = true;
        signal.removeEventListener('abort', onAbort);
        socket?.destroy();
        resolve(r);
      };
      const onAbort = () => finish({ outcome: 'timeout', latency_ms: null, fields: {} });
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      socket = connect({
        host,
        port: this.spec.port ?? DEFAULT_PORT,
        servername: isIP(host) ? undefined : host,
        ca,
        rejectUnauthorized: false,
      });
      socket.once('secureConnect', () => {
        if (socket) finish(this.judge(socket, clock.monoMs() - started));
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        const code = String(err.code ?? 'ERROR');
        if (code === 'ECONNREFUSED')
          finish({ outcome: 'refused', latency_ms: null, fields: { error: code } });
        else if (UNRESOLVED.has(code))
          finish({ outcome: 'unreachable', latency_ms: null, fields: { error: 'unresolved' } });
        else if (UNREACHABLE.has(code))
          finish({ outcome: 'unreachable', latency_ms: null, fields: { error: code } });
        else if (code === 'ETIMEDOUT')
          finish({ outcome: 'timeout', latency_ms: null, fields: { error: code } });
        // A reset or an alert during the handshake: something answers, but not TLS we accept.
        else finish({ outcome: 'bad_response', latency_ms: null, fields: { tls_error: code } });
      });
    });
  }

  private judge(socket: TLSSocket, latency: number): ProbeResult {
    const cert = socket.getPeerCertificate();
    const notAfter = Date.parse(cert.valid_to ?? '');
    if (!cert.valid_to || Number.isNaN(notAfter))
      return { outcome: 'bad_response', latency_ms: latency, fields: { tls_error: 'NO_CERTIFICATE' } };
    const leftMs = notAfter - this.deps.clock.wallMs();
    const days = Math.floor(leftMs / DAY_MS);
    const error =
      leftMs <= 0 ? 'CERT_HAS_EXPIRED' : socket.authorized ? null : String(socket.authorizationError);
    return {
      outcome: error ? 'bad_response' : 'ok',
      latency_ms: latency,
      fields: {
        days_left: days,
        expiring: days < (this.spec.warn_days ?? DEFAULT_WARN_DAYS),
        not_after: new Date(notAfter).toISOString(),
        subject_cn: cn(cert.subject),
        issuer_cn: cn(cert.issuer),
        protocol: socket.getProtocol(),
        tls_error: error,
      },
    };
  }
}

/**
 * `tls`: handshake time and certificate expiry of a TLS endpoint (the regency server's
 * HTTPS). `bad_response` when the certificate has expired or fails verification (against
 * `ca_file` if set, else the system CAs; the name checked is `host`).
 */
export const tls = defineProbeType({
  type: 'tls',
  fields: FIELDS,
  required: ['host'],
  // A certificate changes rarely: every 10 minutes is plenty, and costs one handshake.
  defaults: { interval_s: 600, timeout_ms: 5000 },
  detail: ['tls_error', 'days_left', { key: 'expiring', unless: false }],
  create: (spec, deps) => new TlsProbe(spec, deps),
});
