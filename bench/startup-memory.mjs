// Start-up time (spawn → /healthz 200) and idle memory/CPU of the daemon, beside the bare
// stack (fastify + pino + better-sqlite3 + connected mqtt.js) measured in the same run: the
// two start in turn, RUNS times each, so a busy moment of the box weighs on both.
// The daemon runs from its esbuild bundle (scripts/build-bundle.mjs); the bare stack loads its
// four packages from node_modules, as an app that is not bundled would. For a like-for-like
// figure the bare stack is also started bundled the same way, in the same loop
// (startup_ratio_to_bundled_bare).
// SPEC: start-up ≤ 1.5× the bare stack's and ≤ 1 s on an idle box; idle RSS ≤ bare + 8 MiB;
// idle CPU ≤ 0.3 % of one core.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundledBareStack, median, procStats, sleep, startMosquitto, unitNodeFlags } from './_lib.mjs';

// BENCH_MAIN: another build's main.js to start (an installed release's, say); default dist/main.js.
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 10_000);
const CPU_WINDOW_MS = Number(process.env.BENCH_CPU_MS ?? 30_000);
const broker = await startMosquitto();
const dir = mkdtempSync(join(tmpdir(), 'kgw-bench-start-'));
const config = join(dir, 'config.yaml');
writeFileSync(
  config,
  `gateway: { id: "3510170012", name: "Desa Kemiren (bench)" }
data_dir: ${join(dir, 'data')}
log_level: info
http: { listen: "127.0.0.1:0" }
mqtt: { url: "${broker.url}", connect_delay_max_s: 0 }
`,
);

function spawnDaemon() {
  const child = spawn(process.execPath, [...unitNodeFlags(process.cwd()), process.env.BENCH_MAIN ?? 'dist/main.js', 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  return child;
}

async function waitHealthy(child, port) {
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.status === 200) return;
    } catch {}
    await sleep(5);
  }
}

/** The port from the daemon's "http listening" log line. */
function listeningPort(child) {
  return new Promise((resolve) => {
    let buf = '';
    const onData = (d) => {
      buf += d.toString();
      const m = /"port":(\d+),"msg":"http listening"/.exec(buf);
      if (m) {
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', onData);
  });
}

/** The bare stack's port, from its "ready PORT" line (printed once it listens and is connected). */
function readyPort(child) {
  return new Promise((resolve) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d.toString();
      const m = /ready (\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
  });
}

async function timeStart(spawnIt, portOf) {
  const t0 = performance.now();
  const child = spawnIt();
  await waitHealthy(child, await portOf(child));
  const ms = performance.now() - t0;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return ms;
}

const bareBundle = await bundledBareStack();

const startups = [];
const bareStartups = [];
const bundledBareStartups = [];
const spawnBare = (script) => () =>
  spawn(process.execPath, [script, broker.url], { stdio: ['ignore', 'pipe', 'ignore'] });
for (let i = 0; i < RUNS; i++) {
  startups.push(await timeStart(spawnDaemon, listeningPort));
  bareStartups.push(await timeStart(spawnBare('bench/_bare-stack.mjs'), readyPort));
  bundledBareStartups.push(await timeStart(spawnBare(bareBundle), readyPort));
}

// Idle footprint, daemon and bare stack side by side.
const daemon = spawnDaemon();
const bare = spawn(process.execPath, ['bench/_bare-stack.mjs', broker.url], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((resolve) => bare.stdout.once('data', resolve));
await sleep(SETTLE_MS);
const d0 = procStats(daemon.pid);
const b0 = procStats(bare.pid);
await sleep(CPU_WINDOW_MS);
const d1 = procStats(daemon.pid);
const b1 = procStats(bare.pid);
// Wait for the daemon's exit: its last status snapshot is written while it stops.
const stopped = new Promise((r) => daemon.once('exit', r));
daemon.kill('SIGTERM');
bare.kill('SIGKILL');
await stopped;
broker.stop();
rmSync(dir, { recursive: true, force: true });

const result = {
  node: process.version,
  startup_ms_median: Math.round(median(startups)),
  startup_ms_max: Math.round(Math.max(...startups)),
  bare_startup_ms_median: Math.round(median(bareStartups)),
  startup_ratio: +(median(startups) / median(bareStartups)).toFixed(2),
  bundled_bare_startup_ms_median: Math.round(median(bundledBareStartups)),
  startup_ratio_to_bundled_bare: +(median(startups) / median(bundledBareStartups)).toFixed(2),
  idle_rss_mb: +d1.rss_mb.toFixed(1),
  bare_rss_mb: +b1.rss_mb.toFixed(1),
  rss_over_bare_mb: +(d1.rss_mb - b1.rss_mb).toFixed(1),
  idle_cpu_pct: +((100 * (d1.cpu_s - d0.cpu_s)) / (CPU_WINDOW_MS / 1000)).toFixed(3),
  bare_cpu_pct: +((100 * (b1.cpu_s - b0.cpu_s)) / (CPU_WINDOW_MS / 1000)).toFixed(3),
  targets: { startup_ms: 1000, startup_ratio: 1.5, rss_over_bare_mb: 8, idle_cpu_pct: 0.3 },
};
console.log(JSON.stringify(result));
