// Backlog drain benchmark for the MQTT outbox (issue 5). Run after `npm run build`:
//   node bench/mqtt-drain.mjs [--n 20000] [--window 32] [--rtt-ms 300]
// Prints one JSON line: our drain vs a bare mqtt.js QoS 1 loop with the same window to the same
// spawned mosquitto, the same through a delay proxy vs window/RTT, and CONNACK → first live
// message while a 100 000-message backlog waits.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import pino from 'pino';
import { buildApp } from '../dist/app.js';
import { validateConfigText } from '../dist/config/loader.js';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '20000' },
    window: { type: 'string', default: '32' },
    'rtt-ms': { type: 'string', default: '300' },
    'slow-n': { type: 'string', default: '800' },
    backlog: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '3' },
    only: { type: 'string', default: '' },
  },
});
const N = Number(args.n);
const WINDOW = Number(args.window);
const RTT = Number(args['rtt-ms']);
const SLOW_N = Number(args['slow-n']);
const BACKLOG = Number(args.backlog);
const RUNS = Number(args.runs);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const root = mkdtempSync(join(tmpdir(), 'kgw-bench-'));

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitPort(port) {
  for (;;) {
    const ok = await new Promise((r) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return;
    await sleep(20);
  }
}

async function startBroker(port) {
  const conf = join(root, `mosq-${port}.conf`);
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_inflight_messages 0\nmax_queued_messages 0\nlog_dest none\n`);
  const proc = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  await waitPort(port);
  return proc;
}

/** A TCP proxy adding rttMs/2 each way (the kernel here has no netem). Order is kept: same delay per chunk. */
function delayProxy(listenPort, targetPort, rttMs) {
  const half = rttMs / 2;
  const server = net.createServer((down) => {
    const up = net.connect(targetPort, '127.0.0.1');
    const pipe = (from, to) => {
      from.on('data', (d) => setTimeout(() => to.writable && to.write(d), half));
      from.on('close', () => setTimeout(() => to.destroy(), half));
      from.on('error', () => undefined);
    };
    pipe(down, up);
    pipe(up, down);
  });
  return new Promise((r) => server.listen(listenPort, '127.0.0.1', () => r(server)));
}

const payloadLike = JSON.stringify({
  v: 1, gw: '3510170012', boot: '00000000-0000-4000-8000-000000000000', seq: 1, id: '00000000-0000-7000-8000-000000000000',
  ts: new Date().toISOString(), clock_synced: true, historical: true,
  data: { device_id: 'adm-1', events: Array.from({ length: 4 }, (_, i) => ({ id: `e-${i}-0000-0000-0000-000000000000`, type: 'service_use', service: 'ktp', outcome: 'ok' })) },
});

/** The bare reference: mqtt.js QoS 1, `window` messages outstanding, next one on each PUBACK. */
async function bareLoop(port, n, window) {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, clean: true });
  await new Promise((r) => client.once('connect', r));
  const t0 = performance.now();
  await new Promise((resolve) => {
    let sent = 0;
    let acked = 0;
    const next = () => {
      if (sent >= n) return;
      sent++;
      client.publish('bench/bare', payloadLike, { qos: 1 }, () => {
        acked++;
        if (acked === n) resolve();
        else next();
      });
    };
    for (let i = 0; i < window; i++) next();
  });
  const s = (performance.now() - t0) / 1000;
  await client.endAsync(true);
  return n / s;
}

function appConfig(dir, port, window) {
  const yaml = `gateway: { id: "3510170012", name: "bench" }
data_dir: ${dir}
log_level: warn
http: { listen: "127.0.0.1:0", metrics: false }
uplink: { probes: [] }
devices: []
cache: { max_mb: 16, upstreams: [] }
mqtt: { url: "mqtt://127.0.0.1:${port}", health_interval_s: 3600, connect_delay_max_s: 0, reconnect_min_s: 0.05, reconnect_max_s: 1, drain_per_s: 100000, inflight_window: ${window}, outbox_max_mb: 512 }
`;
  const r = validateConfigText(yaml, join(dir, 'config.yaml'));
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

/** Our app with a backlog of n usage messages queued while the broker was away. */
async function withBacklog(port, n, window) {
  const dir = mkdtempSync(join(root, 'app-'));
  const log = pino({ level: 'warn' }, pino.destination({ dest: '/dev/null', sync: true }));
  const app = buildApp({ config: appConfig(dir, port, window), log, version: 'bench' });
  await app.start();
  const events = JSON.parse(payloadLike).data.events;
  const store = app.deps.store;
  for (let i = 0; i < n; i += 1000)
    store.batch(() => {
      for (let j = i; j < Math.min(n, i + 1000); j++) app.report.enqueue('usage', { device_id: 'adm-1', events });
    });
  return { app, dir };
}

async function waitConnected(app) {
  // Poll every 1 ms: a busy spin here would steal the CPU the drain needs.
  while (!app.report.drainProgress().connected) await sleep(1);
  return performance.now();
}

async function ourDrain(brokerPort, connectPort, n, window) {
  const { app, dir } = await withBacklog(connectPort, n, window);
  const broker = brokerPort ? await startBroker(brokerPort) : undefined;
  const t0 = await waitConnected(app);
  // Delivered = every backlog row sent and acknowledged (row deletion is batched bookkeeping).
  for (;;) {
    const p = app.report.drainProgress();
    if (p.backlog_sent >= n && p.inflight === 0) break;
    await sleep(2);
  }
  const rate = n / ((performance.now() - t0) / 1000);
  await app.stop();
  broker?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

async function firstLive(brokerPort, connectPort, n, window) {
  const { app, dir } = await withBacklog(connectPort, n, window);
  const broker = await startBroker(brokerPort);
  // The regency side listens directly on the broker (no proxy delay on this leg).
  const ev = mqtt.connect(`mqtt://127.0.0.1:${brokerPort}`, { reconnectPeriod: 0 });
  let t1 = 0;
  let t3 = 0;
  ev.on('message', (_t, p) => {
    if (!t1 && p.includes('"live-marker"')) t1 = performance.now();
    if (!t3 && p.includes('"live-marker-2"')) t3 = performance.now();
  });
  await ev.subscribeAsync('kampung/v1/3510170012/event', { qos: 1 });
  const t0 = await waitConnected(app);
  app.report.enqueue('event', { code: 'live-marker', severity: 'info', message: 'x' });
  while (!t1 && performance.now() - t0 < 30_000) await sleep(1);
  const depthLeft = app.report.live().depth;
  // A second live message while the drain runs at full window: it should not queue behind it.
  await sleep(1500);
  const sentDuring = app.report.drainProgress().backlog_sent;
  const t2 = performance.now();
  app.report.enqueue('event', { code: 'live-marker-2', severity: 'info', message: 'y' });
  while (!t3 && performance.now() - t2 < 30_000) await sleep(1);
  await ev.endAsync(true);
  await app.stop();
  broker.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  return { ms: t1 - t0, backlog_left: depthLeft, mid_ms: t3 - t2, mid_backlog_sent: sentDuring };
}

const cpu0 = process.cpuUsage();
const result = { bench: 'mqtt-drain', n: N, window: WINDOW, runs: RUNS };

// 1) Loopback: ours vs bare, same broker process per pair, alternating.
if (args.only === 'ours' || args.only === 'bare') {
  // Single-side runs for profiling (node --cpu-prof bench/mqtt-drain.mjs --only ours).
  const port = await freePort();
  const broker = await startBroker(port);
  if (args.only === 'ours') result.ours_only_msgs_s = Math.round(await ourDrain(undefined, port, N, WINDOW));
  else result.bare_only_msgs_s = Math.round(await bareLoop(port, N, WINDOW));
  broker.kill('SIGKILL');
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
{
  const port = await freePort();
  const broker = await startBroker(port);
  const bare = [];
  const ours = [];
  for (let i = 0; i < RUNS; i++) {
    bare.push(await bareLoop(port, N, WINDOW));
    ours.push(await ourDrain(undefined, port, N, WINDOW));
  }
  broker.kill('SIGKILL');
  result.loopback = {
    bare_msgs_s: Math.round(median(bare)),
    ours_msgs_s: Math.round(median(ours)),
    ratio: +(median(ours) / median(bare)).toFixed(3),
    target: 0.8,
  };
}

// 2) Through the 300 ms RTT proxy: ours and bare vs window / RTT.
{
  const port = await freePort();
  const proxyPort = await freePort();
  const broker = await startBroker(port);
  const proxy = await delayProxy(proxyPort, port, RTT);
  const bare = await bareLoop(proxyPort, SLOW_N, WINDOW);
  const ours = await ourDrain(undefined, proxyPort, SLOW_N, WINDOW);
  const ideal = WINDOW / (RTT / 1000);
  proxy.close();
  broker.kill('SIGKILL');
  result.rtt = {
    rtt_ms: RTT,
    n: SLOW_N,
    window_over_rtt_msgs_s: +ideal.toFixed(1),
    bare_msgs_s: +bare.toFixed(1),
    ours_msgs_s: +ours.toFixed(1),
    ratio_vs_ideal: +(ours / ideal).toFixed(3),
    target: 0.8,
  };
}

// 3) CONNACK → first live message at the broker, 100 000-message backlog waiting, through the proxy.
{
  const port = await freePort();
  const proxyPort = await freePort();
  const proxy = await delayProxy(proxyPort, port, RTT);
  const r = await firstLive(port, proxyPort, BACKLOG, WINDOW);
  proxy.close();
  // t0 is when the app saw CONNACK; the message then needs one one-way trip (RTT/2) to the broker.
  result.first_live = {
    backlog: BACKLOG,
    rtt_ms: RTT,
    ms: Math.round(r.ms),
    rtts: +(r.ms / RTT).toFixed(2),
    backlog_left_at_arrival: r.backlog_left,
    target_rtts: 2,
    // Enqueued 1.5 s into the drain (window full of backlog): enqueue → at the broker.
    mid_drain_ms: Math.round(r.mid_ms),
    mid_drain_rtts: +(r.mid_ms / RTT).toFixed(2),
    mid_drain_backlog_sent_before: r.mid_backlog_sent,
  };
}

const cpu = process.cpuUsage(cpu0);
result.process = { rss_mb: Math.round(process.memoryUsage().rss / 1048576), cpu_s: +((cpu.user + cpu.system) / 1e6).toFixed(1) };
rmSync(root, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
