import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/core/clock.js';
import { isGwError } from '../../src/core/errors.js';
import { fpingAvailability, icmpType } from '../../src/probes/icmp.js';
import { createProbe } from '../../src/probes/registry.js';
import type { ProbeSpec } from '../../src/probes/spec-schema.js';
import type { Probe, ProbeResult } from '../../src/probes/types.js';
import { freePort, sleep, waitFor } from '../helpers/net.js';
import { NetnsLab } from '../helpers/netns.js';
import { tempDir } from '../helpers/tmp.js';
import { type DnsResponder, startDnsResponder } from './fixtures/dns-responder.mjs';

const deps = { clock: new SystemClock(undefined, 'test'), log: pino({ level: 'silent' }) };
// Probes do not time themselves: like the daemon, the caller aborts at the spec's deadline.
const run = (spec: ProbeSpec, ms = spec.timeout_ms ?? 3000): Promise<ProbeResult> =>
  createProbe(spec, deps).run(AbortSignal.timeout(ms));

const listen = (srv: Server | HttpServer) =>
  new Promise<number>((resolve) =>
    srv.listen(0, '127.0.0.1', () => resolve((srv.address() as { port: number }).port)),
  );

describe('icmp probe (system fping, one long-running process)', () => {
  const opened: Probe[] = [];
  const icmpProbe = (spec: ProbeSpec, bin?: string, lifetimeMs?: number) => {
    const p = bin ? icmpType(bin, lifetimeMs).create(spec, deps) : createProbe(spec, deps);
    opened.push(p);
    return p;
  };
  afterEach(() => {
    for (const p of opened.splice(0)) p.close?.();
  });

  it('answers ok with RTT for loopback', async () => {
    const r = await icmpProbe({ type: 'icmp', host: '127.0.0.1', interval_s: 1 }).run(
      AbortSignal.timeout(3000),
    );
    expect(r.outcome).toBe('ok');
    expect(r.fields).toMatchObject({ sent: 1, received: 1, loss_pct: 0, duplicates: 0 });
    expect(r.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it('a round reports every packet since the previous round, at 1 packet/s', async () => {
    const p = icmpProbe({ type: 'icmp', host: '127.0.0.1', interval_s: 1 });
    await p.run(AbortSignal.timeout(3000));
    await sleep(2300);
    const r = await p.run(AbortSignal.timeout(3000));
    expect(r.fields).toMatchObject({ sent: 2, received: 2 });
  });

  it('reports an unresolvable name as unreachable, not an exception', async () => {
    const r = await icmpProbe({ type: 'icmp', host: 'no-such-host.invalid', interval_s: 1 }).run(
      AbortSignal.timeout(3000),
    );
    expect(r.outcome).toBe('unreachable');
    expect(r.fields.error).toBe('unresolved');
  });

  it('rejects with GW_ERR_PROBE_BROKEN when fping is missing, and says so', async () => {
    const probe = icmpProbe({ type: 'icmp', host: '127.0.0.1' }, '/nonexistent/fping');
    const err = await probe.run(AbortSignal.timeout(2000)).catch((e: unknown) => e);
    expect(isGwError(err, 'GW_ERR_PROBE_BROKEN')).toBe(true);
    // It keeps saying so on every round rather than hanging.
    expect(
      isGwError(await probe.run(AbortSignal.timeout(2000)).catch((e: unknown) => e), 'GW_ERR_PROBE_BROKEN'),
    ).toBe(true);
    const a = await fpingAvailability('/nonexistent/fping');
    expect(a.available).toBe(false);
    expect(a.reason).toMatch(/not installed/);
    expect((await fpingAvailability()).available).toBe(true);
  });

  it('resolves timeout when the round is already aborted', async () => {
    const r = await icmpProbe({ type: 'icmp', host: '127.0.0.1' }).run(AbortSignal.abort());
    expect(r.outcome).toBe('timeout');
  });

  it('recovers when its fping is killed from outside', async () => {
    const p = icmpProbe({ type: 'icmp', host: '127.0.0.78' });
    expect((await p.run(AbortSignal.timeout(3000))).outcome).toBe('ok');
    const pid = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
      .split('\n')
      .find((l) => l.includes('fping') && l.includes('127.0.0.78'))
      ?.trim()
      .split(/\s+/)[0];
    process.kill(Number(pid), 'SIGKILL');
    // The round that saw it die says the probe broke; the next one starts a new fping.
    const err = await p.run(AbortSignal.timeout(3000)).catch((e: unknown) => e);
    expect(isGwError(err, 'GW_ERR_PROBE_BROKEN')).toBe(true);
    expect((await p.run(AbortSignal.timeout(3000))).outcome).toBe('ok');
  });

  it('replaces its fping when its lifetime is up, without a failed round', async () => {
    const p = icmpProbe({ type: 'icmp', host: '127.0.0.1' }, 'fping', 2000); // fping -c 2
    for (let i = 0; i < 4; i++) expect((await p.run(AbortSignal.timeout(2500))).outcome).toBe('ok');
  });

  it('close() ends its fping', async () => {
    const p = icmpProbe({ type: 'icmp', host: '127.0.0.77' });
    await p.run(AbortSignal.timeout(3000));
    const running = () => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes('127.0.0.77');
    expect(running()).toBe(true);
    const pending = p.run(AbortSignal.timeout(10_000));
    p.close?.();
    // The round in flight ends at once instead of waiting for a packet that never comes.
    expect((await pending).outcome).toBe('timeout');
    await waitFor(() => !running(), 3000);
  });
});

describe.skipIf(!NetnsLab.available())('icmp probe against a dead target (netns)', () => {
  const lab = new NetnsLab('upprb');
  const dir = tempDir('kgw-fping-');
  let bin = '';
  beforeAll(() => {
    lab.create('a');
    // A neighbour whose MAC nobody owns: packets leave and nothing ever answers.
    lab.exec('a', 'ip', ['link', 'add', 'upprbx', 'type', 'veth', 'peer', 'name', 'upprby']);
    lab.exec('a', 'ip', ['addr', 'add', '10.81.0.1/24', 'dev', 'upprbx']);
    lab.exec('a', 'ip', ['link', 'set', 'upprbx', 'up']);
    lab.exec('a', 'ip', ['link', 'set', 'upprby', 'up']);
    lab.exec('a', 'ip', ['neigh', 'add', '10.81.0.9', 'lladdr', '02:00:00:00:00:09', 'dev', 'upprbx']);
    // The real fping, run inside the namespace.
    bin = join(dir.path, 'fping');
    writeFileSync(bin, `#!/bin/sh\nexec ip netns exec ${lab.ns('a')} fping "$@"\n`);
    chmodSync(bin, 0o755);
  });
  afterAll(() => {
    lab.destroy();
    dir.cleanup();
  });

  it('reports timeout with 100 % loss', async () => {
    const r = await icmpType(bin)
      .create({ type: 'icmp', host: '10.81.0.9' }, deps)
      .run(AbortSignal.timeout(3000));
    expect(r).toMatchObject({ outcome: 'timeout', latency_ms: null, fields: { loss_pct: 100, received: 0 } });
  });
});

describe('tcp probe', () => {
  const server = createServer((s) => s.end());
  let open = 0;
  beforeAll(async () => {
    open = await listen(server);
  });
  afterAll(() => server.close());

  it('connects to an open port', async () => {
    const r = await run({ type: 'tcp', host: '127.0.0.1', port: open });
    expect(r.outcome).toBe('ok');
    expect(r.latency_ms).not.toBeNull();
  });

  it('tells a closed port (refused)', async () => {
    const r = await run({ type: 'tcp', host: '127.0.0.1', port: await freePort() });
    expect(r.outcome).toBe('refused');
  });

  it('tells a timeout from the deadline', async () => {
    // The scheduler's signal is already spent: the probe must settle at once, as a timeout.
    const r = await createProbe({ type: 'tcp', host: '127.0.0.1', port: open }, deps).run(
      AbortSignal.abort(),
    );
    expect(r.outcome).toBe('timeout');
  });

  it('reports an unresolvable host as unreachable', async () => {
    const r = await run({ type: 'tcp', host: 'no-such-host.invalid', port: 80 });
    expect(r.outcome).toBe('unreachable');
  });
});

describe('dns probe (asks the server directly)', () => {
  let responder: DnsResponder;
  beforeAll(async () => {
    responder = await startDnsResponder('127.0.0.1', 0);
  });
  afterAll(() => responder.close());
  const spec = (query: string, port = responder.port): ProbeSpec => ({
    type: 'dns',
    server: '127.0.0.1',
    port,
    query,
    timeout_ms: 400,
  });

  it('gets an A record', async () => {
    const before = responder.queries();
    const r = await run(spec('banyuwangikab.go.id'));
    expect(r).toMatchObject({ outcome: 'ok', fields: { rcode: 'NOERROR', answers: 1 } });
    expect(responder.queries()).toBe(before + 1);
  });

  it('tells NXDOMAIN from a timeout', async () => {
    const nx = await run(spec('nx.banyuwangikab.go.id'));
    expect(nx).toMatchObject({ outcome: 'bad_response', fields: { rcode: 'NXDOMAIN' } });
    const silent = await run(spec('silent.banyuwangikab.go.id'));
    expect(silent.outcome).toBe('timeout');
  });

  it('reports SERVFAIL as a bad response', async () => {
    expect((await run(spec('servfail.example'))).fields.rcode).toBe('SERVFAIL');
  });

  it('reports a host without a DNS server as refused (ICMP port unreachable)', async () => {
    const r = await run(spec('banyuwangikab.go.id', await freePort()));
    expect(r.outcome).toBe('refused');
  });

  // Before: the resolve error was ignored and send() on the unconnected socket threw
  // ERR_SOCKET_BAD_PORT out of a callback, killing the daemon (exit 70) at every start.
  it('reports an unresolvable server name as unreachable, not an exception', async () => {
    const r = await run({ ...spec('banyuwangikab.go.id'), server: 'resolver.nonexistent.invalid' }, 3000);
    expect(r).toMatchObject({ outcome: 'unreachable', latency_ms: null, fields: { error: 'unresolved' } });
  });

  it('resolves a server host name on every run', async () => {
    const before = responder.queries();
    const probe = createProbe(
      { ...spec('banyuwangikab.go.id'), server: 'localhost', timeout_ms: 2000 },
      deps,
    );
    for (let i = 0; i < 2; i++) {
      const r = await probe.run(AbortSignal.timeout(2000));
      expect(r).toMatchObject({ outcome: 'ok', fields: { rcode: 'NOERROR' } });
    }
    expect(responder.queries()).toBe(before + 2);
  });

  it('keeps the deadline while the name is still resolving', async () => {
    const t0 = performance.now();
    const r = await createProbe(
      { ...spec('banyuwangikab.go.id'), server: 'resolver.nonexistent.invalid' },
      deps,
    ).run(AbortSignal.abort());
    expect(r.outcome).toBe('timeout');
    expect(performance.now() - t0).toBeLessThan(200);
  });
});

describe('http probe', () => {
  const server = createHttpServer((req, res) => {
    if (req.url === '/ok') res.end('fine');
    else if (req.url === '/fail') {
      res.statusCode = 500;
      res.end('broken');
    } else if (req.url === '/slow') setTimeout(() => res.end('late'), 2000).unref();
    else if (req.url === '/big') res.end(Buffer.alloc(1024 * 1024));
  });
  let port = 0;
  beforeAll(async () => {
    port = await listen(server);
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = (path: string) => `http://127.0.0.1:${port}${path}`;

  it('reads the status and latency', async () => {
    const r = await run({ type: 'http', url: url('/ok') });
    expect(r).toMatchObject({ outcome: 'ok', fields: { status: 200 } });
    expect(r.latency_ms).not.toBeNull();
  });

  it('reports a 500 as a bad response with its status', async () => {
    expect(await run({ type: 'http', url: url('/fail') })).toMatchObject({
      outcome: 'bad_response',
      fields: { status: 500 },
    });
  });

  it('times out a slow server by its timeout_ms', async () => {
    const t0 = performance.now();
    const r = await run({ type: 'http', url: url('/slow'), timeout_ms: 300 });
    expect(r.outcome).toBe('timeout');
    expect(performance.now() - t0).toBeLessThan(1500);
  });

  it('stops reading a big body early', async () => {
    const r = await run({ type: 'http', url: url('/big') });
    expect(r.outcome).toBe('ok');
    expect(Number(r.fields.bytes)).toBeLessThan(1024 * 1024);
  });

  it('reports a closed port as refused', async () => {
    expect((await run({ type: 'http', url: `http://127.0.0.1:${await freePort()}/` })).outcome).toBe(
      'refused',
    );
  });

  it('names TLS errors (self-signed certificate)', async () => {
    const dir = tempDir('kgw-tls-');
    try {
      const key = join(dir.path, 'key.pem');
      const cert = join(dir.path, 'cert.pem');
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          key,
          '-out',
          cert,
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
        ],
        { stdio: 'ignore' },
      );
      const tls = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_q, s) =>
        s.end('x'),
      );
      const p = await listen(tls);
      try {
        const r = await run({ type: 'http', url: `https://127.0.0.1:${p}/` });
        expect(r.outcome).toBe('bad_response');
        expect(r.fields.tls_error).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
      } finally {
        tls.close();
      }
    } finally {
      dir.cleanup();
    }
  });
});
