// Shared helpers for the benchmarks: medians, process sampling, a spawned mosquitto.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttp } from 'node:http';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDnsResponder } from '../tests/probes/fixtures/dns-responder.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = new Socket();
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
      s.connect(port, '127.0.0.1');
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`port ${port} not open`);
    await sleep(30);
  }
}

/** RSS (MiB) and cumulative CPU seconds of a pid, from /proc. */
export function procStats(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  return { rss_mb: rssKb / 1024, cpu_s: ticks / 100 };
}

/** A private mosquitto on a free port, killed by stop(). */
export async function startMosquitto() {
  const dir = mkdtempSync(join(tmpdir(), 'kgw-bench-mosq-'));
  const port = await freePort();
  const conf = join(dir, 'm.conf');
  writeFileSync(
    conf,
    [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'user root', 'max_inflight_messages 0', 'max_queued_messages 0', 'log_type error'].join('\n'),
  );
  const proc = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  await waitForPort(port);
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    stop: () => {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
/** Nanoseconds a task has run, from the scheduler (schedstat): exact, unlike 10 ms utime ticks,
 * which overcharge a process that wakes briefly and often. */
const runNs = (path) => Number(readFileSync(`${path}/schedstat`, 'utf8').split(' ')[0]);

/**
 * CPU ns of every thread of a process (per thread name), of its running children (fping), and
 * how often each thread slept and was woken (voluntary context switches: on a small box the
 * wake-ups, not the JavaScript, are what an idle daemon's CPU is made of).
 */
export function cpuNs(pid) {
  const threads = {};
  const wakes = {};
  let self = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const comm =
        tid === String(pid) ? 'main' : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim().replace(/[0-9]+$/, '');
      const ns = runNs(`/proc/${pid}/task/${tid}`);
      threads[comm] = (threads[comm] ?? 0) + ns;
      const st = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      wakes[comm] = (wakes[comm] ?? 0) + Number(/\nvoluntary_ctxt_switches:\s+(\d+)/.exec(st)[1]);
      self += ns;
    } catch {
      // the thread ended meanwhile
    }
  }
  let children = 0;
  for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
    try {
      children += runNs(`/proc/${child}`);
    } catch {
      // exited meanwhile: counted as reaped below
    }
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Reaped children (an fping replaced within the window) only exist as ticks.
  const reapedNs = ((Number(f[13]) + Number(f[14])) / CLK_TCK) * 1e9;
  return { self, children: children + reapedNs, threads, wakes, userTicks: Number(f[11]), sysTicks: Number(f[12]) };
}

/** Per-thread CPU % of one core and wakes/s between two cpuNs() readings windowS apart. */
export function cpuDelta(a, b, windowS) {
  const pct = (ns) => Math.round((ns / 1e9 / windowS) * 100 * 1000) / 1000;
  const per = (key, f) =>
    Object.fromEntries(
      Object.entries(b[key])
        .map(([k, v]) => [k, f(v - (a[key][k] ?? 0))])
        .filter(([, v]) => v > 0),
    );
  return {
    cpu_pct: pct(b.self - a.self),
    children_cpu_pct: pct(b.children - a.children),
    total_cpu_pct: pct(b.self - a.self + b.children - a.children),
    threads_cpu_pct: per('threads', pct),
    thread_wakes_per_s: per('wakes', (n) => Math.round((n / windowS) * 100) / 100),
  };
}

/** The node flags between the node binary and dist/main.js in the unit's ExecStart (production's). */
export function unitNodeFlags(root) {
  const unit = readFileSync(join(root, 'systemd', 'kampung-gateway.service'), 'utf8');
  const line = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
  const words = line.split(/\s+/);
  return words.slice(1, words.findIndex((w) => w.endsWith('main.js')));
}

/**
 * Loopback targets for the SPEC's five uplink probes (icmp router and ONT, dns, tcp anchor,
 * http regency at 30 s) and an http server for device checks, so the CPU benches measure the
 * same ladder. `probes` is the uplink.probes list; close() stops the servers.
 */
export async function startProbeTargets() {
  const listen = (srv) => new Promise((r) => srv.listen(0, '127.0.0.1', () => r(srv.address().port)));
  const tcp = createServer((s) => s.destroy());
  const http = createHttp((_q, s) => s.end('ok'));
  const [tcpPort, httpPort] = [await listen(tcp), await listen(http)];
  const dns = await startDnsResponder('127.0.0.1', 0);
  return {
    httpPort,
    probes: [
      { name: 'router', layer: 'lan', type: 'icmp', host: '127.0.0.1' },
      { name: 'ont', layer: 'isp', type: 'icmp', host: '127.0.0.2' },
      { name: 'dns', layer: 'dns', type: 'dns', server: '127.0.0.1', port: dns.port, query: 'banyuwangikab.go.id' },
      { name: 'anchor1', layer: 'internet', type: 'tcp', host: '127.0.0.1', port: tcpPort },
      { name: 'regency', layer: 'regency', type: 'http', url: `http://127.0.0.1:${httpPort}/health`, interval_s: 30 },
    ],
    close: async () => {
      tcp.close();
      http.close();
      await dns.close();
    },
  };
}

/**
 * bench/_bare-stack.mjs bundled with the daemon's own esbuild settings (scripts/build-bundle.mjs),
 * for a like-for-like figure beside the daemon's bundle; returns its path. Written inside
 * node_modules so that its external better-sqlite3 resolves as the daemon's does.
 */
export async function bundledBareStack() {
  const { build } = await import('esbuild');
  const outfile = join(process.cwd(), 'node_modules', '.cache', 'kgw-bench', 'bare-stack.bundle.mjs');
  await build({
    entryPoints: ['bench/_bare-stack.mjs'],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minifyWhitespace: true,
    minifySyntax: true,
    external: ['better-sqlite3'],
    banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
    logLevel: 'error',
  });
  return outfile;
}
