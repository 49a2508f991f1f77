// The regency collector at scale (issue 15). Run after `npm run build`:
//   npm run bench -- regency            (or node bench/regency.mjs [options])
// Part "ingest": messages/s committed by one `kampung-gw regency run` draining recorded
//   simulator traffic from a real Mosquitto, against a bare insert loop of the same rows into
//   the same kind of store, on SQLite and PostgreSQL; medians of --runs runs and the ratio.
// Part "load": `kampung-gw fleet-sim` at a province's and the nation's message rate with 1
//   and 3 collectors on a shared subscription (see _regency-load.mjs).
// Defaults fit a shared 2-core box in a few minutes; a real server takes the full sizes, e.g.
//   node bench/regency.mjs --messages 100000 --runs 5 --max-villages 83000 --per-connection 1 \
//     --seconds 300 --cut-min 50 --cut-s 300
// Options: --parts ingest,load --dialects sqlite,postgres (ingest) --load-dialects postgres
//   --levels province,national --collectors 1,3 --reconnect 5000 (0: no storm)
//   --settle-s 60 (how long the store may take to catch up after the simulator stops)
//   --shared-one yes|no (on PostgreSQL, does a lone collector join the shared group; SQLite never)
//   --sim-nice N (run the simulator at nice N: the load generator yields the cores to the collectors)
// PostgreSQL: KGW_BENCH_PG (default postgres://postgres@127.0.0.1:5432/postgres); each run
// creates and drops its own database. One JSON line on stdout.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startMosquitto } from './_lib.mjs';
import { ingestBench } from './_regency-ingest.mjs';
import { recordSimulator } from './_regency-lib.mjs';
import { loadBench } from './_regency-load.mjs';

const { values: args } = parseArgs({
  options: {
    parts: { type: 'string', default: 'ingest,load' },
    dialects: { type: 'string', default: 'sqlite,postgres' },
    messages: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '3' },
    levels: { type: 'string', default: 'province,national' },
    collectors: { type: 'string', default: '1,3' },
    'load-dialects': { type: 'string', default: 'postgres' },
    'max-villages': { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '30' },
    reconnect: { type: 'string', default: '5000' },
    'cut-min': { type: 'string', default: '10' },
    'cut-s': { type: 'string', default: '10' },
    'per-connection': { type: 'string', default: '50' },
    'settle-s': { type: 'string', default: '60' },
    'shared-one': { type: 'string', default: 'yes' },
    'sim-nice': { type: 'string', default: '0' },
  },
});
const parts = args.parts.split(',');
const dialects = args.dialects.split(',');
const dir = mkdtempSync(join(tmpdir(), 'kgw-bench-regency-'));
const box = { cpus: cpus().length, cpu: cpus()[0]?.model, load_before: loadavg().map((x) => Math.round(x * 10) / 10) };
const out = { box, ingest: [], load: [] };
try {
  if (parts.includes('ingest')) {
    const broker = await startMosquitto();
    let recording;
    try {
      recording = await recordSimulator(broker.url, { count: Number(args.messages), villages: 400, speed: 600 });
    } finally {
      broker.stop();
    }
    console.error(`regency: recorded ${recording.length} envelopes from fleet-sim`);
    for (const d of dialects) out.ingest.push(await ingestBench(d, join(dir, 'ingest'), recording, Number(args.runs)));
  }
  if (parts.includes('load'))
    out.load = await loadBench({
      dir: join(dir, 'load'),
      dialects: args['load-dialects'].split(','),
      levels: args.levels.split(',').filter(Boolean),
      collectors: args.collectors.split(',').map(Number),
      maxVillages: Number(args['max-villages']),
      seconds: Number(args.seconds),
      reconnect: Number(args.reconnect),
      cutMin: Number(args['cut-min']),
      cutS: Number(args['cut-s']),
      perConnection: Number(args['per-connection']),
      settleS: Number(args['settle-s']),
      sharedOne: args['shared-one'] !== 'no',
      simNice: Number(args['sim-nice']),
    });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
out.box.load_after = loadavg().map((x) => Math.round(x * 10) / 10);
console.log(JSON.stringify(out));
