#!/usr/bin/env node
// Cache-hit throughput and latency of GET /svc/... on the real built daemon, beside a bare
// fastify route replying the same 2 KB, measured in the same run (SPEC: >= 0.8x, p99 <= 5 ms
// at 200 req/s; SPEC memory row: peak RSS <= 120 MiB under HTTP load). Both servers run as child
// processes; autocannon runs here. Both run with the node flags of the systemd unit's
// ExecStart (read from systemd/kampung-gateway.service), so the daemon's memory is the
// production one and the bare route pays the same GC settings.
// Usage: npm run build && flock /tmp/kgw-bench.lock node bench/cache-hit.mjs [--seconds 5]
//   [--rounds 5] [--fixed-seconds 20] [--pin] [--node-flags "--max-semi-space-size=4"] [--cpu-prof DIR]
// --fixed-seconds: length of the steady 200 req/s phase (p99 target), run before saturation.
// --pin: daemon and bare server share CPU 0, autocannon gets CPU 1 (a 2-core box), so the load
//   generator does not steal cycles from the server under test.
// --node-flags: override the unit's flags (e.g. "" to measure their cost).
// --cpu-prof DIR: write V8 CPU profiles of the daemon and the bare server there (Chrome DevTools).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { stringify } from 'yaml';
import { unitNodeFlags } from './_lib.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const argStr = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? '') : undefined;
};
const SECONDS = arg('seconds', 5);
const ROUNDS = arg('rounds', 3);
const PIN = process.argv.includes('--pin');
const CPU_PROF = argStr('cpu-prof');
const NODE_FLAGS = (argStr('node-flags') ?? unitNodeFlags(ROOT).join(' ')).split(/\s+/).filter(Boolean);
const TOKEN = 'bench-token-0123456789';
const BODY = Buffer.alloc(2048, 'kampung-gateway katalog layanan. ');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function waitLine(proc, re) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d) => {
      buf += d.toString();
      const m = re.exec(buf);
      if (m) {
        proc.stdout.off('data', onData);
        resolve(m);
      }
    };
    proc.stdout.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
}

/** CPU seconds (user+sys), RSS and peak RSS (VmHWM, since start) in MiB of a child, from /proc. */
function procStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { cpu_s: ticks / 100, rss_mb: Math.round(kb('VmRSS') / 1024), peak_rss_mb: Math.round(kb('VmHWM') / 1024) };
}

/** Pins a pid (all its threads) to one CPU list, e.g. '0'. */
function pin(pid, cpus) {
  const r = spawnSync('taskset', ['-a', '-cp', cpus, String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`taskset failed: ${r.stderr}`);
}

function run(url, opts) {
  return new Promise((resolve, reject) => {
    autocannon(
      { url, connections: 10, duration: SECONDS, headers: { authorization: `Bearer ${TOKEN}` }, ...opts },
      (err, r) => (err ? reject(err) : resolve(r)),
    );
  });
}

const dir = mkdtempSync(join(tmpdir(), 'kgw-bench-cache-'));
const upstream = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=86400', etag: '"b1"' });
  res.end(BODY);
});
await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
const probe = createServer();
await new Promise((r) => probe.listen(0, '127.0.0.1', r));
const daemonPort = probe.address().port;
await new Promise((r) => probe.close(r));
writeFileSync(join(dir, 'kiosk.token'), TOKEN);
writeFileSync(
  join(dir, 'config.yaml'),
  stringify({
    gateway: { id: '3510170012', name: 'bench' },
    data_dir: join(dir, 'data'),
    log_level: 'warn',
    http: { listen: `127.0.0.1:${daemonPort}`, metrics: false },
    uplink: { probes: [] },
    devices: [{ id: 'adm-1', name: 'Kiosk', kind: 'kiosk', token_file: join(dir, 'kiosk.token') }],
    cache: { max_mb: 16, upstreams: [{ name: 'layanan', base_url: `http://127.0.0.1:${upstream.address().port}/api` }] },
  }),
);

const bareSrc = `
  const Fastify = require(${JSON.stringify(join(ROOT, 'node_modules', 'fastify'))});
  const body = Buffer.alloc(2048, 'kampung-gateway katalog layanan. ');
  const app = Fastify({ logger: false });
  app.get('/svc/layanan/katalog', async (_req, reply) => reply.type('application/json').send(body));
  app.listen({ host: '127.0.0.1', port: 0 }).then(() => console.log('PORT ' + app.server.address().port));
  // A clean exit, so --cpu-prof writes its profile.
  process.on('SIGTERM', () => process.exit(0));
`;
const profFlags = CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : [];
const daemonArgs = [...NODE_FLAGS, ...profFlags, join(ROOT, 'dist', 'main.js'), 'run', '--config', join(dir, 'config.yaml')];
const daemon = spawn(process.execPath, daemonArgs, {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env },
});
// The bare server runs with the daemon's node flags too: a smaller young generation changes
// the GC cost per request, and the ratio should compare the code, not the flags.
const bare = spawn(process.execPath, [...NODE_FLAGS, ...profFlags, '-e', bareSrc], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
try {
  const bareUrl = `http://127.0.0.1:${(await waitLine(bare, /PORT (\d+)/))[1]}/svc/layanan/katalog`;
  await waitHealthy(daemonPort);
  if (PIN) {
    // Server threads (incl. libuv and V8 helpers) on CPU 0, this process (autocannon) on CPU 1.
    pin(daemon.pid, '0');
    pin(bare.pid, '0');
    pin(process.pid, '1');
  }
  const cacheUrl = `http://127.0.0.1:${daemonPort}/svc/layanan/katalog`;
  const first = await fetch(cacheUrl, { headers: { authorization: `Bearer ${TOKEN}` } });
  const second = await fetch(cacheUrl, { headers: { authorization: `Bearer ${TOKEN}` } });
  if (first.headers.get('x-cache') !== 'MISS' || second.headers.get('x-cache') !== 'HIT')
    throw new Error('cache did not go MISS → HIT');
  await run(cacheUrl, { duration: 1 });
  await run(bareUrl, { duration: 1 });
  // Latency at the SPEC's steady 200 req/s, measured before the saturation rounds: right after
  // them, the collection of their garbage (a major GC of both servers) lands in this window.
  const fixedS = arg('fixed-seconds', 20);
  const fixed = await run(cacheUrl, { overallRate: 200, duration: fixedS });
  const fixedBare = await run(bareUrl, { overallRate: 200, duration: fixedS });

  const cache = { rps: [], p99: [], cpuUs: [] };
  const base = { rps: [], p99: [], cpuUs: [] };
  const cpu0 = procStats(daemon.pid);
  // VmRSS polled during load too: VmHWM also counts start-up, this is the load peak alone.
  let loadPeak = { daemon: 0, bare: 0 };
  const poll = setInterval(() => {
    loadPeak = {
      daemon: Math.max(loadPeak.daemon, procStats(daemon.pid).rss_mb),
      bare: Math.max(loadPeak.bare, procStats(bare.pid).rss_mb),
    };
  }, 50);
  for (let i = 0; i < ROUNDS; i++) {
    const pairs = [
      [cache, cacheUrl, daemon.pid],
      [base, bareUrl, bare.pid],
    ];
    for (const [target, url, pid] of i % 2 ? pairs.reverse() : pairs) {
      const before = procStats(pid).cpu_s;
      const r = await run(url, {});
      if (r.non2xx || r.errors) throw new Error(`errors during run: ${r.non2xx} non-2xx, ${r.errors} errors`);
      target.rps.push(r.requests.average);
      target.p99.push(r.latency.p99);
      // Server CPU per request: unlike req/s, barely moved by other load on the box.
      target.cpuUs.push(((procStats(pid).cpu_s - before) * 1e6) / r.requests.total);
    }
  }
  clearInterval(poll);
  const cpu1 = procStats(daemon.pid);
  const out = {
    bench: 'cache-hit',
    seconds: SECONDS,
    rounds: ROUNDS,
    cache_hit_rps: Math.round(median(cache.rps)),
    bare_rps: Math.round(median(base.rps)),
    ratio: Number((median(cache.rps) / median(base.rps)).toFixed(3)),
    // Each round's cache and bare runs are back to back, so a round's ratio sees the same noise.
    round_ratios: cache.rps.map((c, i) => Number((c / base.rps[i]).toFixed(3))),
    cache_rps_rounds: cache.rps.map(Math.round),
    bare_rps_rounds: base.rps.map(Math.round),
    cpu_us_per_req: { cache: Math.round(median(cache.cpuUs)), bare: Math.round(median(base.cpuUs)) },
    cpu_ratio_rounds: cache.cpuUs.map((c, i) => Number((base.cpuUs[i] / c).toFixed(3))),
    node_flags: NODE_FLAGS.join(' '),
    pinned: PIN,
    cache_hit_p99_ms: median(cache.p99),
    bare_p99_ms: median(base.p99),
    fixed_200rps: {
      seconds: fixedS,
      cache_p99_ms: fixed.latency.p99,
      bare_p99_ms: fixedBare.latency.p99,
      cache_p50_ms: fixed.latency.p50,
      cache_max_ms: fixed.latency.max,
      bare_max_ms: fixedBare.latency.max,
    },
    daemon: {
      ...procStats(daemon.pid),
      load_peak_rss_mb: loadPeak.daemon,
      cpu_s_during_load: Number((cpu1.cpu_s - cpu0.cpu_s).toFixed(2)),
    },
    bare: { ...procStats(bare.pid), load_peak_rss_mb: loadPeak.bare },
    targets: { ratio_min: 0.8, fixed_p99_max_ms: 5, peak_rss_max_mb: 120 },
  };
  out.pass =
    out.ratio >= 0.8 && out.fixed_200rps.cache_p99_ms <= 5 && out.daemon.peak_rss_mb <= out.targets.peak_rss_max_mb;
  console.log(JSON.stringify(out));
} finally {
  daemon.kill('SIGTERM');
  bare.kill('SIGTERM');
  upstream.close();
  await new Promise((r) => daemon.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}

async function waitHealthy(port) {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('daemon not healthy');
}
