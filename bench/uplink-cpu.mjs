// CPU cost of uplink monitoring (5 uplink probes + 20 device-like checks on loopback targets)
// beside an idle bare node process, and detection/recovery times over repeated link cuts in
// network namespaces (root only). Needs `npm run build` first. Prints one JSON line.
//   node bench/uplink-cpu.mjs            BENCH_WINDOW_S=300 BENCH_CUTS=20 to change the run
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuDelta, cpuNs, startProbeTargets } from './_lib.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HARNESS = join(ROOT, 'bench/_uplink-harness.mjs');
// SPEC: idle CPU averaged over 5 min, after start-up (JIT warm-up, first rounds) has settled.
const WINDOW_S = Number(process.env.BENCH_WINDOW_S ?? 300);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 90);
const CUTS = Number(process.env.BENCH_CUTS ?? 10);
const CHECKS = Number(process.env.BENCH_CHECKS ?? 20);
const UPLINK = process.env.BENCH_UPLINK !== '0';
// How a cut is made: 'drop' = the router silently drops everything (a fiber cut beyond it: no
// ICMP error, no carrier change), 'link' = its interface goes down (the gateway's veth loses carrier).
const CUT_MODES = (process.env.BENCH_CUT_MODES ?? 'drop,link').split(',');
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Bytes the process wrote: to storage (write_bytes) and through write syscalls (wchar). */
function io(pid) {
  const t = readFileSync(`/proc/${pid}/io`, 'utf8');
  return { storage: Number(t.match(/write_bytes:\s+(\d+)/)[1]), syscalls: Number(t.match(/wchar:\s+(\d+)/)[1]) };
}
const rssMb = (pid) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) / 1024;
const pct = (arr, p) => {
  if (arr.length === 0) return null;
  const s = [...arr].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

function lines(proc, onLine) {
  let buf = '';
  proc.stdout.on('data', (d) => {
    buf += d;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        onLine(JSON.parse(line));
      } catch {
        // pino warnings and other text (BENCH_ECHO=1 shows them, e.g. with --trace-gc)
        if (process.env.BENCH_ECHO) process.stderr.write(`${line}\n`);
      }
      nl = buf.indexOf('\n');
    }
  });
}

function startHarness(opts, netns) {
  // BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/p' profiles the monitor.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const args = [...nodeArgs, HARNESS, JSON.stringify(opts)];
  const proc = netns
    ? spawn('ip', ['netns', 'exec', netns, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const events = [];
  lines(proc, (e) => events.push(e));
  return { proc, events };
}

async function cpuRun() {
  const targets = await startProbeTargets();
  const dir = mkdtempSync(join(tmpdir(), 'kgw-upbench-'));
  const uplink = {
    down_after: 4,
    up_after: 4,
    degraded: { loss_pct: 10, window_s: 120, rtt_ms: { lan: 50, isp: 150, dns: 500, internet: 300, regency: 2000 } },
    interface_interval_s: 0,
    throughput: { enabled: false, cron: '30 3 * * 0', max_bytes: 1024, timeout_s: 10 },
    probes: targets.probes,
  };
  // 20 devices as SPEC's example: one http health check each at the default interval (30 s).
  if (!UPLINK) uplink.probes = [];
  const checks = Array.from({ length: CHECKS }, (_, i) => ({ type: 'http', url: `http://127.0.0.1:${targets.httpPort}/d${i}` }));
  const harness = startHarness({ dataDir: dir, uplink, checks });
  const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)'], { stdio: 'ignore' });
  await sleep(WARMUP_S * 1000); // start-up and first rounds are not "idle"
  const [m0, b0, io0] = [cpuNs(harness.proc.pid), cpuNs(bare.pid), io(harness.proc.pid)];
  await sleep(WINDOW_S * 1000);
  const [m1, b1, io1] = [cpuNs(harness.proc.pid), cpuNs(bare.pid), io(harness.proc.pid)];
  const perDay = (k) => Math.round((((io1[k] - io0[k]) / WINDOW_S) * 86400) / 1048576 * 10) / 10;
  const ticks = (k) => (m1[k] - m0[k]) / CLK_TCK;
  const mon = cpuDelta(m0, m1, WINDOW_S);
  const result = {
    window_s: WINDOW_S,
    monitor_cpu_pct: mon.cpu_pct,
    // Share of user vs kernel time, from the (coarse) tick counters.
    monitor_user_share: Math.round((ticks('userTicks') / Math.max(1e-9, ticks('userTicks') + ticks('sysTicks'))) * 100) / 100,
    monitor_threads_cpu_pct: mon.threads_cpu_pct,
    monitor_thread_wakes_per_s: mon.thread_wakes_per_s,
    fping_children_cpu_pct: mon.children_cpu_pct,
    monitor_total_cpu_pct: mon.total_cpu_pct,
    bare_cpu_pct: cpuDelta(b0, b1, WINDOW_S).cpu_pct,
    monitor_rss_mb: Math.round(rssMb(harness.proc.pid) * 10) / 10,
    bare_rss_mb: Math.round(rssMb(bare.pid) * 10) / 10,
    // Extrapolated; stdout of the harness is excluded from neither, so this is an upper bound.
    disk_write_mb_per_day: perDay('storage'),
    write_syscalls_mb_per_day: perDay('syscalls'),
  };
  harness.proc.kill('SIGTERM');
  bare.kill('SIGKILL');
  await new Promise((r) => harness.proc.once('exit', r));
  await targets.close();
  rmSync(dir, { recursive: true, force: true });
  return result;
}

async function detectionRun(mode) {
  if (process.getuid?.() !== 0 || CUTS <= 0) return { skipped: 'needs root' };
  const ns = (n) => `upb-${n}`;
  const ip = (...a) => execFileSync('ip', a);
  for (const n of ['gw', 'rt']) {
    try {
      execFileSync('ip', ['netns', 'del', ns(n)], { stdio: 'ignore' });
    } catch {}
    ip('netns', 'add', ns(n));
    ip('-n', ns(n), 'link', 'set', 'lo', 'up');
  }
  ip('link', 'add', 'upbga', 'type', 'veth', 'peer', 'name', 'upbgb');
  ip('link', 'set', 'upbga', 'netns', ns('gw'));
  ip('link', 'set', 'upbgb', 'netns', ns('rt'));
  ip('-n', ns('gw'), 'addr', 'add', '10.62.0.2/24', 'dev', 'upbga');
  ip('-n', ns('rt'), 'addr', 'add', '10.62.0.1/24', 'dev', 'upbgb');
  ip('-n', ns('gw'), 'link', 'set', 'upbga', 'up');
  ip('-n', ns('rt'), 'link', 'set', 'upbgb', 'up');
  const dir = mkdtempSync(join(tmpdir(), 'kgw-upbench-'));
  const uplink = {
    down_after: 4,
    up_after: 4,
    degraded: { loss_pct: 10, window_s: 120, rtt_ms: { lan: 50, isp: 150, dns: 500, internet: 300, regency: 2000 } },
    interface_interval_s: 0,
    throughput: { enabled: false, cron: '30 3 * * 0', max_bytes: 1024, timeout_s: 10 },
    probes: [{ name: 'router', layer: 'lan', type: 'icmp', host: '10.62.0.1' }],
  };
  const h = startHarness({ dataDir: dir, uplink, checks: [] }, ns('gw'));
  const waitEvent = async (pred, from, timeoutMs) => {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const e = h.events.find((x) => x.ev === 'verdict' && x.t >= from && pred(x));
      if (e) return e;
      await sleep(20);
    }
    return null;
  };
  const detect = [];
  const recover = [];
  let wrongLayer = 0;
  let missed = 0;
  try {
    await waitEvent((e) => e.verdict === 'up', 0, 15_000);
    for (let i = 0; i < CUTS; i++) {
      await sleep(2000 + Math.random() * 1000); // a random phase against the probe rounds
      const cut = Date.now();
      if (mode === 'link') ip('-n', ns('rt'), 'link', 'set', 'upbgb', 'down');
      else execFileSync('ip', ['netns', 'exec', ns('rt'), 'iptables', '-A', 'INPUT', '-j', 'DROP']);
      const d = await waitEvent((e) => e.verdict === 'down', cut, 15_000);
      if (!d) missed++;
      else {
        detect.push(d.t - cut);
        if (d.fault !== 'lan') wrongLayer++;
      }
      await sleep(2000);
      const repair = Date.now();
      if (mode === 'link') ip('-n', ns('rt'), 'link', 'set', 'upbgb', 'up');
      else execFileSync('ip', ['netns', 'exec', ns('rt'), 'iptables', '-F', 'INPUT']);
      const u = await waitEvent((e) => e.verdict === 'up', repair, 20_000);
      if (u) recover.push(u.t - repair);
    }
  } finally {
    h.proc.kill('SIGTERM');
    await new Promise((r) => h.proc.once('exit', r));
    for (const n of ['gw', 'rt']) ip('netns', 'del', ns(n));
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    mode,
    cuts: CUTS,
    missed,
    wrong_layer: wrongLayer,
    detect_ms_p50: pct(detect, 50),
    detect_ms_p95: pct(detect, 95),
    detect_ms_max: detect.length ? Math.max(...detect) : null,
    recover_ms_p50: pct(recover, 50),
    recover_ms_p95: pct(recover, 95),
  };
}

const cpu = WINDOW_S > 0 ? await cpuRun() : { skipped: true };
const detection = [];
for (const mode of CUT_MODES) detection.push(await detectionRun(mode));
process.stdout.write(`${JSON.stringify({ bench: 'uplink-cpu', cpu, detection })}\n`);
