// Reference for bench/fleet-sim.mjs: N bare mqtt.js clients, each with a retained Will, as
// fast as they go. Prints { connect_s, rss_mb } once all have their CONNACK.
import mqtt from 'mqtt';

const [url, nText] = process.argv.slice(2);
const n = Number(nText);
const rss0 = process.memoryUsage().rss;
const t0 = performance.now();
let up = 0;
let inFlight = 0;
let next = 0;
// Same bound on CONNECTs in progress as the simulator's default (--connect-concurrency 100).
const pump = () => {
  while (inFlight < 100 && next < n) {
    const i = next++;
    inFlight++;
    const c = mqtt.connect(url, {
      clientId: `bare-${i}`,
      protocolVersion: 5,
      reconnectPeriod: 0,
      will: { topic: `bare/${i}/status`, payload: Buffer.from('{"online":false}'), qos: 1, retain: true },
    });
    c.once('connect', () => {
      inFlight--;
      if (++up === n) {
        const out = { connect_s: (performance.now() - t0) / 1000, rss_mb: (process.memoryUsage().rss - rss0) / 1048576 };
        console.log(JSON.stringify(out));
        process.exit(0);
      }
      pump();
    });
  }
};
pump();
