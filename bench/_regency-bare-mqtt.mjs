// A second reference for the ingest bench: a bare mqtt.js subscriber draining the same
// backlog from its own persistent session on the same broker: receive and PUBACK (mqtt.js
// acknowledges once the handler returns), nothing else. No parsing, no store. What the
// collector's MQTT side alone could reach on this box, in the same run.
//   node bench/_regency-bare-mqtt.mjs BROKER_URL CLIENT_ID TOTAL   → one JSON line
import mqtt from 'mqtt';

const [url, clientId, totalText] = process.argv.slice(2);
const total = Number(totalText);
let n = 0;
let t0;
const c = mqtt.connect(url, {
  protocolVersion: 5,
  clientId,
  clean: false,
  properties: { sessionExpiryInterval: 3600 },
  reconnectPeriod: 0,
});
const done = new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`bare subscriber got ${n} of ${total}`)), 300_000);
  c.on('message', () => {
    if (n === 0) t0 = performance.now();
    n++;
    if (n === total) {
      clearTimeout(timer);
      resolve(performance.now());
    }
  });
  c.on('error', reject);
});
const t1 = await done;
await c.endAsync(false);
const s = (t1 - t0) / 1000;
console.log(JSON.stringify({ messages: n, seconds: s, per_s: s > 0 ? (n - 1) / s : null }));
