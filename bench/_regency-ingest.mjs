// Part 1 of the regency bench: messages/s committed by one real collector (`kampung-gw
// regency run`) draining a backlog of recorded simulator traffic from a real Mosquitto,
// against the bare insert loop (_regency-bare.mjs) writing the same rows into a fresh store of
// the same kind, and against a bare mqtt.js subscriber draining the same backlog
// (_regency-bare-mqtt.mjs), in the same run. The backlog is published while the collector's persistent
// session is offline, so the publisher's CPU is not shared with the collector while it runs.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, procStats, sleep, startMosquitto } from './_lib.mjs';
import { BenchStore, collectorConfig, primeSession, replay, startCollector } from './_regency-lib.mjs';

const COLS = 'id, gw, kind, boot, seq, ts, clock_synced, historical, day, received_ms, data';

/** Polls the store until it holds `total` envelopes; the rate counts from the first commit seen. */
async function drain(store, pid, total, timeoutMs) {
  let t0;
  let n0 = 0;
  let rss = 0;
  const end = Date.now() + timeoutMs;
  for (;;) {
    const n = await store.settled();
    const now = performance.now();
    try {
      rss = Math.max(rss, procStats(pid).rss_mb);
    } catch {
      // exited
    }
    if (n > 0 && t0 === undefined) {
      t0 = now;
      n0 = n;
    }
    if (n >= total) return { per_s: t0 === undefined || now === t0 ? null : (total - n0) / ((now - t0) / 1000), rss };
    if (Date.now() > end) throw new Error(`collector stored ${n} of ${total} in ${timeoutMs / 1000} s`);
    await sleep(25);
  }
}

async function oneRun(dialect, dir, recording, run) {
  const broker = await startMosquitto();
  const store = new BenchStore(dialect, join(dir, `c${run}`), `c${run}`);
  const bare = new BenchStore(dialect, join(dir, `b${run}`), `b${run}`);
  try {
    await store.create();
    await bare.create();
    const clientId = `bench-collector-${run}`;
    const bareMqttId = `bench-bare-mqtt-${run}`;
    await primeSession(broker.url, clientId);
    await primeSession(broker.url, bareMqttId);
    await replay(broker.url, recording);
    const collector = await startCollector(dir, collectorConfig(store, broker.url, clientId));
    let got;
    try {
      got = await drain(store, collector.pid, recording.length, 300_000);
    } finally {
      await collector.stop();
    }
    const rows = await store.query(`SELECT ${COLS} FROM messages ORDER BY received_ms, gw, seq`);
    const rowsFile = join(dir, `rows-${run}.json`);
    writeFileSync(rowsFile, JSON.stringify(rows));
    const b = spawnSync(process.execPath, ['bench/_regency-bare.mjs', rowsFile, bare.dataDir, bare.url], {
      encoding: 'utf8',
    });
    if (b.status !== 0) throw new Error(`bare loop failed: ${b.stderr}`);
    const ref = JSON.parse(b.stdout.trim().split('\n').pop());
    const m = spawnSync(
      process.execPath,
      ['bench/_regency-bare-mqtt.mjs', broker.url, bareMqttId, String(recording.length)],
      { encoding: 'utf8' },
    );
    if (m.status !== 0) throw new Error(`bare subscriber failed: ${m.stderr}`);
    const mq = JSON.parse(m.stdout.trim().split('\n').pop());
    return {
      collector_per_s: got.per_s,
      bare_per_s: ref.per_s,
      bare_mqtt_per_s: mq.per_s,
      collector_rss_mb: got.rss,
      rows: rows.length,
    };
  } finally {
    await store.drop();
    await bare.drop();
    broker.stop();
  }
}

/** Runs `runs` collector/bare pairs on one dialect; medians and the ratio of the medians. */
export async function ingestBench(dialect, dir, recording, runs) {
  mkdirSync(dir, { recursive: true });
  const per = [];
  for (let run = 0; run < runs; run++) {
    const r = await oneRun(dialect, join(dir, dialect), recording, run);
    per.push(r);
    console.error(`regency ingest ${dialect} run ${run + 1}/${runs}: ${JSON.stringify(r)}`);
  }
  const round = (x) => Math.round(x);
  const c = median(per.map((r) => r.collector_per_s));
  const b = median(per.map((r) => r.bare_per_s));
  return {
    dialect,
    messages: recording.length,
    runs,
    collector_msgs_per_s: round(c),
    bare_rows_per_s: round(b),
    ratio: Math.round((c / b) * 100) / 100,
    ratio_per_run: per.map((r) => Math.round((r.collector_per_s / r.bare_per_s) * 100) / 100),
    collector_per_run: per.map((r) => round(r.collector_per_s)),
    bare_per_run: per.map((r) => round(r.bare_per_s)),
    collector_rss_mb: round(median(per.map((r) => r.collector_rss_mb))),
    // The MQTT side alone (receive + PUBACK, no parsing, no store), same backlog, same broker.
    bare_mqtt_msgs_per_s: round(median(per.map((r) => r.bare_mqtt_per_s))),
    ratio_to_bare_mqtt: Math.round((c / median(per.map((r) => r.bare_mqtt_per_s))) * 100) / 100,
  };
}
