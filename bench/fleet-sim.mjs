// Fleet simulator capacity (issue 15). Run after `npm run build`:
//   node bench/fleet-sim.mjs [--n 203,2000] [--seconds 30] [--speed 60]
// For each N, against one spawned mosquitto: a bare mqtt.js reference (N clients with a Will,
// same CONNECT concurrency) and `kampung-gw fleet-sim --villages N`: connections per second,
// RSS (peak and per village), CPU, messages acknowledged per second. One JSON line.
import { spawn, spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { procStats, sleep, startMosquitto } from './_lib.mjs';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '203,2000' },
    seconds: { type: 'string', default: '30' },
    speed: { type: 'string', default: '60' },
  },
});
const sizes = args.n.split(',').map(Number);
const results = [];
for (const n of sizes) {
  const broker = await startMosquitto();
  try {
    const bare = spawnSync(process.execPath, ['bench/_bare-connect.mjs', broker.url, String(n)], { encoding: 'utf8' });
    const ref = JSON.parse(bare.stdout.trim().split('\n').pop());
    const sim = spawn(
      process.execPath,
      [
        ...['dist/main.js', 'fleet-sim', '--mqtt', broker.url, '--villages', String(n)],
        ...['--speed', args.speed, '--duration', args.seconds, '--connect-delay', '0', '--seed', '1'],
        // No random faults: a village in a cut at the start would connect only when it heals.
        ...['--fault-rate', '0'],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    sim.stdout.on('data', (d) => (out += d));
    sim.stderr.on('data', (d) => (err += d));
    let peak = 0;
    let cpu0;
    let cpuEnd;
    const exited = new Promise((r) => sim.once('exit', r));
    let done = false;
    exited.then(() => (done = true));
    while (!done) {
      try {
        const st = procStats(sim.pid);
        peak = Math.max(peak, st.rss_mb);
        cpu0 ??= /connected .* after start/.test(err) ? st : undefined;
        if (!/duration over/.test(err)) cpuEnd = st;
      } catch {
        // exited between the check and the read
      }
      await sleep(250);
    }
    const summary = JSON.parse(out.trim().split('\n').pop());
    const m = /all \d+ connected ([\d.]+) s after start, CONNACKs over ([\d.]+) s \((\d+)\/s\), rss (\d+) MiB/.exec(err);
    const steadyS = cpu0 && cpuEnd ? Number(args.seconds) - Number(m?.[1] ?? 0) : undefined;
    results.push({
      villages: n,
      bare_connect_s: Number(ref.connect_s.toFixed(2)),
      bare_connects_per_s: Math.round(n / ref.connect_s),
      bare_rss_per_client_kib: Math.round((ref.rss_mb * 1024) / n),
      sim_all_connected_s: Number(m?.[1]),
      sim_connack_spread_s: Number(m?.[2]),
      sim_connects_per_s: Number(m?.[3]),
      sim_rss_after_connect_mb: Number(m?.[4]),
      sim_rss_peak_mb: Math.round(peak),
      sim_rss_per_village_kib: Math.round((peak * 1024) / n),
      sim_cpu_pct_steady:
        cpu0 && cpuEnd && steadyS ? Math.round(((cpuEnd.cpu_s - cpu0.cpu_s) / steadyS) * 1000) / 10 : null,
      acked: summary.published.total,
      acked_per_s: Math.round(summary.published.total / Number(args.seconds)),
    });
    console.error(JSON.stringify(results.at(-1)));
  } finally {
    broker.stop();
  }
}
console.log(JSON.stringify({ speed: Number(args.speed), seconds: Number(args.seconds), results }));
