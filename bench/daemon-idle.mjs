// Idle CPU of the whole daemon as SPEC states it: default intervals, 5 uplink probes (icmp
// router and ONT, dns, tcp anchor, http regency) and 20 devices with an http check each, MQTT
// connected to a real broker, the page closed. CPU is the scheduler's run time (schedstat, ns)
// of every thread plus the fping child, over a 5 min window after a warm-up, beside the bare
// stack (fastify + pino + better-sqlite3 + connected mqtt.js) idling in the same run.
// SPEC: idle ≤ 0.3 % of one core; idle RSS ≤ the bare stack + 8 MiB; ≤ 25 MB/day written,
// logs included (block-layer writes of the daemon from /proc/PID/io, plus every byte of its
// stdout — the JSON log journald stores — at the shipped `info` level). Needs `npm run build`.
// Prints one JSON line.
//   BENCH_WINDOW_S=300 BENCH_WARMUP_S=90 node bench/daemon-idle.mjs
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  bundledBareStack,
  cpuDelta,
  cpuNs,
  freePort,
  sleep,
  startMosquitto,
  startProbeTargets,
  unitNodeFlags,
  waitForPort,
} from './_lib.mjs';

const WINDOW_S = Number(process.env.BENCH_WINDOW_S ?? 300);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 90);
const DEVICES = Number(process.env.BENCH_DEVICES ?? 20);
const rssMb = (pid) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 102.4) / 10;
const io = (pid) => Number(/write_bytes:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))[1]);

const broker = await startMosquitto();
const targets = await startProbeTargets();
const dir = mkdtempSync(join(tmpdir(), 'kgw-bench-idle-'));
// On a box the live status snapshot lives in /run/kampung-gateway (the unit's RuntimeDirectory=,
// tmpfs): here a tmpfs folder too where there is one, so the figure is the box's.
const runDir = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/kgw-bench-run-') : join(dir, 'data', 'run');
const port = await freePort();
writeFileSync(
  join(dir, 'config.yaml'),
  stringify({
    gateway: { id: '3510170012', name: 'Desa Kemiren (bench)' },
    data_dir: join(dir, 'data'),
    run_dir: runDir,
    log_level: 'info', // as config/default.yaml ships: the log is part of the write budget
    http: { listen: `127.0.0.1:${port}` },
    uplink: { probes: targets.probes },
    devices: Array.from({ length: DEVICES }, (_, i) => ({
      id: `adm-${i + 1}`,
      name: `Anjungan Mandiri ${i + 1}`,
      kind: 'kiosk',
      checks: [{ type: 'http', url: `http://127.0.0.1:${targets.httpPort}/d${i}` }],
    })),
    mqtt: { url: broker.url, connect_delay_max_s: 0 },
  }),
);
// BENCH_NODE_ARGS='--trace-gc' (with BENCH_ECHO=1) or '--cpu-prof' to look inside.
// The daemon runs with the unit's node flags, as in production.
const nodeArgs = [...unitNodeFlags(process.cwd()), ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)];
const daemon = spawn(process.execPath, [...nodeArgs, 'dist/main.js', 'run', '--config', join(dir, 'config.yaml')], {
  stdio: ['ignore', process.env.BENCH_ECHO ? 'inherit' : 'pipe', 'inherit'],
});
let logBytes = 0;
daemon.stdout?.on('data', (chunk) => {
  logBytes += chunk.length;
});
const bare = spawn(process.execPath, ['bench/_bare-stack.mjs', broker.url], { stdio: ['ignore', 'pipe', 'inherit'] });
// The same bare stack bundled as the daemon is (bench/_lib.mjs): the like-for-like figure.
const bundledBare = spawn(process.execPath, [await bundledBareStack(), broker.url], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
// What the daemon logged in the window, by message: a busy box makes probes time out, and the
// state changes they cause are written (and explain a write figure above the usual).
const windowMsgs = {};
let inWindow = false;
let partial = '';
daemon.stdout?.on('data', (chunk) => {
  if (!inWindow) return;
  const lines = (partial + chunk.toString()).split('\n');
  partial = lines.pop() ?? '';
  for (const line of lines) {
    const msg = /"msg":"([^"]*)"/.exec(line)?.[1] ?? '?';
    windowMsgs[msg] = (windowMsgs[msg] ?? 0) + 1;
  }
});
try {
  await waitForPort(port);
  await new Promise((resolve) => bare.stdout.once('data', resolve));
  await new Promise((resolve) => bundledBare.stdout.once('data', resolve));
  await sleep(WARMUP_S * 1000); // start-up, JIT warm-up, first rounds and the devices going online (up_after checks at 30 s) are not idle
  const [d0, b0, w0, l0] = [cpuNs(daemon.pid), cpuNs(bare.pid), io(daemon.pid), logBytes];
  inWindow = true;
  await sleep(WINDOW_S * 1000);
  inWindow = false;
  const [d1, b1, w1, l1] = [cpuNs(daemon.pid), cpuNs(bare.pid), io(daemon.pid), logBytes];
  const perDay = (bytes) => Math.round(((bytes / WINDOW_S) * 86400) / 104857.6) / 10;
  const d = cpuDelta(d0, d1, WINDOW_S);
  const result = {
    bench: 'daemon-idle',
    window_s: WINDOW_S,
    probes: 5,
    devices: DEVICES,
    daemon_cpu_pct: d.total_cpu_pct,
    daemon_threads_cpu_pct: d.threads_cpu_pct,
    fping_cpu_pct: d.children_cpu_pct,
    daemon_thread_wakes_per_s: d.thread_wakes_per_s,
    bare_stack_cpu_pct: cpuDelta(b0, b1, WINDOW_S).cpu_pct,
    daemon_rss_mb: rssMb(daemon.pid),
    bare_stack_rss_mb: rssMb(bare.pid),
    bundled_bare_stack_rss_mb: rssMb(bundledBare.pid),
    disk_write_mb_per_day: perDay(w1 - w0),
    log_mb_per_day: perDay(l1 - l0),
    writes_with_log_mb_per_day: perDay(w1 - w0 + l1 - l0),
    logged_in_window: windowMsgs,
    targets: { daemon_cpu_pct: 0.3, rss_over_bare_mb: 8, writes_with_log_mb_per_day: 25 },
  };
  result.rss_over_bare_mb = Math.round((result.daemon_rss_mb - result.bare_stack_rss_mb) * 10) / 10;
  result.rss_over_bundled_bare_mb = Math.round((result.daemon_rss_mb - result.bundled_bare_stack_rss_mb) * 10) / 10;
  result.pass =
    result.daemon_cpu_pct <= 0.3 && result.rss_over_bare_mb <= 8 && result.writes_with_log_mb_per_day <= 25;
  console.log(JSON.stringify(result));
} finally {
  daemon.kill('SIGTERM');
  bare.kill('SIGKILL');
  bundledBare.kill('SIGKILL');
  await new Promise((r) => daemon.once('exit', r));
  broker.stop();
  await targets.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(runDir, { recursive: true, force: true });
}
