// Part 2 of the regency bench: `kampung-gw fleet-sim` against 1 and 3 real collectors on a
// shared subscription (one Mosquitto, one PostgreSQL database per configuration).
//
// Steady load of a level (province 8,500 villages, national 83,000): the simulator runs
// min(level, --max-villages) villages at speed level / villages, so the broker and the
// collectors get the level's message rate (health every 60 s per village, kiosk usage,
// events, random faults) from fewer, time-compressed villages. Measured over the window after
// the villages connected: messages committed per second, publish-to-queryable latency of
// probe envelopes (p50/p99/max), RSS and CPU of each collector, and how long the store
// needed after the simulator stopped to hold everything the broker acknowledged.
//
// Reconnect storm: --reconnect villages (default 5,000, real count, no compression of the
// villages) lose their fiber at once for --cut-min simulated minutes (the first --cut-s real
// seconds), then all come back within the gateway's jittered backoff and drain their
// backlogs: backlog size, drain time, probe latency during the drain.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundledVillagesPath, loadVillages, takeVillages, villagesCsv } from '../dist/sim/fleet/villages.js';
import { median, percentile, procStats, sleep, startMosquitto } from './_lib.mjs';
import { BenchStore, collectorConfig, startCollector } from './_regency-lib.mjs';
import { Probe } from './_regency-probe.mjs';

export const LEVELS = { province: 8_500, national: 83_000 };
const r1 = (x) => Math.round(x * 10) / 10;

function villagesFile(dir, n) {
  const file = join(dir, `villages-${n}.csv`);
  writeFileSync(file, villagesCsv(takeVillages(loadVillages(bundledVillagesPath()), n)));
  return file;
}

/** `kampung-gw fleet-sim` as a child: stderr lines to wait on, the summary when it exits. */
function startSim(brokerUrl, args, niceness = 0) {
  // With --sim-nice the load generator yields the cores to what is measured (it then falls
  // behind when they are short, which the offered rate shows).
  const argv = [process.execPath, 'dist/main.js', 'fleet-sim', '--mqtt', brokerUrl, ...args];
  const [cmd, ...rest] = niceness > 0 ? ['nice', '-n', String(niceness), ...argv] : argv;
  const proc = spawn(cmd, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => {
    err += d;
    if (err.length > 200_000) err = err.slice(-100_000);
  });
  const exited = new Promise((r) => proc.once('exit', r));
  return {
    pid: proc.pid,
    async waitFor(re, timeoutMs) {
      const end = Date.now() + timeoutMs;
      while (!re.test(err)) {
        if (proc.exitCode !== null) throw new Error(`fleet-sim exited ${proc.exitCode}: ${err.slice(-2000)}`);
        if (Date.now() > end) throw new Error(`fleet-sim: no ${re} in ${timeoutMs / 1000} s`);
        await sleep(100);
      }
      return re.exec(err);
    },
    async done() {
      await exited;
      return JSON.parse(out.trim().split('\n').pop());
    },
    kill: () => proc.kill('SIGKILL'),
  };
}

/** RSS and CPU of each collector, sampled every 500 ms until stop(). */
function sampler(pids) {
  const rss = pids.map(() => []);
  const cpu0 = pids.map((p) => procStats(p).cpu_s);
  const t0 = performance.now();
  const timer = setInterval(() => {
    pids.forEach((p, i) => {
      try {
        rss[i].push(procStats(p).rss_mb);
      } catch {
        // exited
      }
    });
  }, 500);
  return () => {
    clearInterval(timer);
    const s = (performance.now() - t0) / 1000;
    return pids.map((p, i) => ({
      rss_mb: Math.round(median(rss[i])),
      rss_max_mb: Math.round(Math.max(...rss[i])),
      cpu_pct: Math.round(((procStats(p).cpu_s - cpu0[i]) / s) * 100),
    }));
  };
}

async function withCollectors({ dir, dialect, k, file, tag, sharedOne }, fn) {
  // The collector refuses a shared group on SQLite (one file, one writer): one collector there.
  if (dialect === 'sqlite' && k > 1) return { dialect, collectors: k, skipped: 'SQLite takes one collector' };
  // On PostgreSQL even one collector joins the group (--shared-one no: a lone collector unshared).
  const sharedGroup = dialect === 'postgres' && (k > 1 || sharedOne) ? 'bench' : undefined;
  mkdirSync(join(dir, tag), { recursive: true });
  const broker = await startMosquitto();
  const store = new BenchStore(dialect, join(dir, tag), tag);
  const collectors = [];
  try {
    await store.create();
    // One after another: the first runs the migrations.
    for (let i = 0; i < k; i++)
      collectors.push(
        await startCollector(
          join(dir, tag),
          collectorConfig(store, broker.url, `bench-${tag}-${i}`, { sharedGroup, villagesFile: file }),
        ),
      );
    return await fn({ broker, store, collectors });
  } finally {
    for (const c of collectors) await c.stop();
    await store.drop();
    broker.stop();
  }
}

/** Waits until the store holds `target` envelopes: seconds it took, or what was left at timeoutMs. */
async function settle(store, target, timeoutMs) {
  const t0 = performance.now();
  for (;;) {
    const n = await store.settled();
    if (n >= target) return { s: r1((performance.now() - t0) / 1000), left: 0 };
    if (performance.now() - t0 > timeoutMs) return { s: null, left: target - n };
    await sleep(100);
  }
}

/** Percentiles of probe latencies; a probe still not queryable when the wait ended counts as slower. */
function latency(ms, probes) {
  const all = [...ms, ...Array(probes.unseenMarked).fill(Number.POSITIVE_INFINITY)];
  if (all.length === 0) return { probes: 0 };
  const at = (p) => {
    const v = percentile(all, p);
    return Number.isFinite(v) ? Math.round(v) : `>${probes.waitMs}`;
  };
  return {
    probes: all.length,
    ...(probes.unseenMarked ? { not_queryable_within_wait: probes.unseenMarked } : {}),
    p50_ms: at(50),
    p99_ms: at(99),
    max_ms: at(100),
  };
}

async function steady(o, dialect, level, k) {
  const villages = Math.min(LEVELS[level], o.maxVillages);
  const speed = LEVELS[level] / villages;
  const file = villagesFile(o.dir, villages);
  const tag = `${level}-${k}`;
  return withCollectors({ dir: o.dir, dialect, k, file, tag, sharedOne: o.sharedOne }, async ({ broker, store, collectors }) => {
    const probe = new Probe(broker.url, store);
    const sim = startSim(broker.url, [
      ...['--villages', String(villages), '--villages-file', file, '--speed', speed.toFixed(4)],
      ...['--duration', String(o.seconds), '--per-connection', String(o.perConnection), '--seed', '1'],
    ], o.simNice);
    try {
      // The window opens once every village is up; a village in a power cut at the start
      // connects only when it heals, so wait at most 40 % of the run for that.
      await sim.waitFor(/all \d+ connected/, o.seconds * 400).catch(() => undefined);
      await probe.start();
      await sleep(2000);
      probe.mark();
      const stopSampling = sampler(collectors.map((c) => c.pid));
      const n0 = await store.settled();
      const t0 = performance.now();
      await sim.waitFor(/duration over/, o.seconds * 1000 + 60_000);
      const n1 = await store.settled();
      const windowS = (performance.now() - t0) / 1000;
      const perCollector = stopSampling();
      const probes = await probe.stop(o.settleS * 1000);
      const lat = latency(probe.latencies, probes);
      const summary = await sim.done();
      const catchUp = await settle(store, summary.published.total + probes.sent - probes.unseen, o.settleS * 1000);
      return {
        dialect,
        level,
        level_villages: LEVELS[level],
        simulated_villages: villages,
        speed: r1(speed),
        per_connection: o.perConnection,
        collectors: k,
        shared_group: k > 1 || (dialect === 'postgres' && o.sharedOne),
        window_s: r1(windowS),
        offered_msgs_per_s: Math.round(summary.published.total / o.seconds),
        published: summary.published,
        committed_msgs_per_s: Math.round((n1 - n0) / windowS),
        publish_to_queryable: lat,
        catch_up_after_stop_s: catchUp.s,
        ...(catchUp.left ? { not_stored_after_catch_up: catchUp.left } : {}),
        per_collector: perCollector,
      };
    } finally {
      sim.kill();
    }
  });
}

async function storm(o, dialect, k) {
  const villages = o.reconnect;
  const speed = (o.cutMin * 60) / o.cutS;
  const file = villagesFile(o.dir, villages);
  const tag = `storm-${k}`;
  return withCollectors({ dir: o.dir, dialect, k, file, tag, sharedOne: o.sharedOne }, async ({ broker, store, collectors }) => {
    const probe = new Probe(broker.url, store);
    // Cut from the start (longer than the run): the end of --duration heals it for every village.
    const sim = startSim(broker.url, [
      ...['--villages', String(villages), '--villages-file', file, '--speed', r1(speed).toString()],
      ...['--duration', String(o.cutS), '--per-connection', String(o.perConnection), '--seed', '1'],
      ...['--fault-rate', '0', '--connect-delay', '0', '--fault', `fiber:0:${o.cutMin * 10}m`],
    ], o.simNice);
    try {
      await probe.start();
      await sim.waitFor(/duration over/, o.cutS * 1000 + 300_000);
      probe.mark();
      const n0 = await store.settled();
      const stopSampling = sampler(collectors.map((c) => c.pid));
      const healed = performance.now();
      const summary = await sim.done();
      const probes = await probe.stop(o.settleS * 1000);
      const target = summary.published.total + probes.sent - probes.unseen;
      const rest = await settle(store, target, o.settleS * 1000);
      const drainS = (performance.now() - healed) / 1000;
      const drained = target - n0 - rest.left;
      return {
        dialect,
        storm_villages: villages,
        per_connection: o.perConnection,
        cut_simulated_min: o.cutMin,
        collectors: k,
        shared_group: k > 1 || (dialect === 'postgres' && o.sharedOne),
        backlog_msgs: target - n0,
        published: summary.published,
        drain_s: rest.left ? null : r1(drainS),
        drain_msgs_per_s: Math.round(drained / drainS),
        ...(rest.left ? { not_drained_after_s: r1(drainS), left: rest.left } : {}),
        publish_to_queryable_during_drain: latency(probe.latencies, probes),
        per_collector: stopSampling(),
      };
    } finally {
      sim.kill();
    }
  });
}

/** Every configuration in turn (never two loads at once). */
export async function loadBench(o) {
  mkdirSync(o.dir, { recursive: true });
  const results = [];
  const note = (r) => {
    results.push(r);
    console.error(`regency load: ${JSON.stringify(r)}`);
  };
  for (const dialect of o.dialects) {
    for (const level of o.levels) for (const k of o.collectors) note(await steady(o, dialect, level, k));
    if (o.reconnect > 0) for (const k of o.collectors) note(await storm(o, dialect, k));
  }
  return results;
}
