// A test harness around the real built app (dist/app.js), driven over stdin so tests can
// kill -9 it mid-stream. Usage goes through the real devices ingest (without HTTP auth).
// stdin lines:  usage <count> <per-message>  |  health [n]  |  alert <code> [n]  |  link <verdict>  |  outage <layer>
//               device <id> <state>  |  forget <lo> <hi>  |  status  |  stop
// stdout lines: READY <runId> | ACK <event-id> (after the event's outbox row is durable)
//               STATUS <k> <json> | DONE <cmd> <k> | STOPPED   (k = the command's line number)
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { buildApp } from '../../dist/app.js';
import { loadConfig } from '../../dist/config/loader.js';
import { createLogger } from '../../dist/core/logger.js';

const { config } = loadConfig(process.argv[2]);
const log = createLogger({
  level: config.log_level,
  base: { gw: config.gateway.id },
  destination: (await import('pino')).default.destination({ dest: 2, sync: true }),
});
const app = buildApp({ config, log, version: '0.0.0-test' });
const out = (line) => process.stdout.write(`${line}\n`);
await app.start();
out(`READY ${app.deps.runId}`);

const bus = app.deps.bus;
const rl = createInterface({ input: process.stdin });
let k = 0;
for await (const line of rl) {
  k++;
  const [cmd, a, b] = line.trim().split(/\s+/);
  if (cmd === 'usage') {
    const count = Number(a);
    const per = Number(b ?? 1);
    for (let i = 0; i < count; i += per) {
      const events = [];
      for (let j = i; j < Math.min(count, i + per); j++)
        events.push({ id: randomUUID(), type: 'service_use', service: 'ktp', outcome: 'ok' });
      // The real devices ingest: resolves once the events (and their outbox row, enqueued
      // inside the same durable transaction) are committed — what a 202 would acknowledge.
      await app.devices.ingest.submit('adm-1', events);
      out(events.map((e) => `ACK ${e.id}`).join('\n'));
    }
    out(`DONE usage ${k}`);
  } else if (cmd === 'health') {
    for (let i = 0; i < Number(a ?? 1); i++) app.report.enqueueHealth();
    out(`DONE health ${k}`);
  } else if (cmd === 'alert') {
    for (let i = 0; i < Number(b ?? 1); i++)
      bus.emit('alert', { code: a ?? 'test', severity: 'info', message: 'test alert', details: { n: i } });
    out(`DONE alert ${k}`);
  } else if (cmd === 'outage') {
    const end = new Date();
    bus.emit('outage.ended', {
      start: new Date(end.getTime() - 90_000).toISOString(),
      end: end.toISOString(),
      duration_s: 90,
      fault_layer: a ?? 'isp',
    });
    out(`DONE outage ${k}`);
  } else if (cmd === 'link') {
    bus.emit('link.changed', {
      verdict: a,
      fault_layer: null,
      since: new Date().toISOString(),
      layers: {},
      outage: null,
    });
    out(`DONE link ${k}`);
  } else if (cmd === 'device') {
    bus.emit('device.changed', {
      id: a,
      name: a,
      kind: 'kiosk',
      state: b,
      since: null,
      reason: null,
      last_heartbeat: null,
    });
    out(`DONE device ${k}`);
  } else if (cmd === 'forget') {
    // Kept envelopes lo..hi age out as if past mqtt.resend_days (the pruning itself is
    // covered in tests/report/resend.test.ts): acknowledged rows only.
    app.report.outbox.flushAcks();
    app.deps.store.db
      .prepare('DELETE FROM outbox WHERE seq BETWEEN ? AND ? AND sent_wall IS NOT NULL')
      .run(Number(a), Number(b));
    out(`DONE forget ${k}`);
  } else if (cmd === 'status') {
    out(`STATUS ${k} ${JSON.stringify(app.report.live())}`);
  } else if (cmd === 'stop') {
    break;
  }
}
await app.stop();
out('STOPPED');
process.exit(0);
