// Publish-to-queryable latency: a probe village publishes real event envelopes at a steady
// pace through the same broker as the fleet; a reader polls the store for them and records,
// per envelope, the time from just before PUBLISH to the first poll that finds its row.
import mqtt from 'mqtt';
import { encodeEnvelope, uuidv7 } from '../dist/report/envelope.js';
import { sleep } from './_lib.mjs';
import { PREFIX } from './_regency-lib.mjs';

export const PROBE_GW = '9999999999';

export class Probe {
  constructor(brokerUrl, store, { everyMs = 50, pollMs = 50 } = {}) {
    this.url = brokerUrl;
    this.store = store;
    this.everyMs = everyMs;
    this.pollMs = pollMs;
    this.boot = `probe-${process.pid}`;
    this.seq = 0;
    this.sentAt = new Map();
    this.latencies = [];
    this.running = false;
  }

  async start() {
    this.client = await mqtt.connectAsync(this.url, { protocolVersion: 5, reconnectPeriod: 500 });
    this.running = true;
    this.loops = Promise.all([this.publishLoop(), this.pollLoop()]);
  }

  /** Latencies (ms) of probes sent from now on only (a window of the run). */
  mark() {
    this.fromSeq = this.seq + 1;
    this.latencies = [];
  }

  async publishLoop() {
    while (this.running) {
      const seq = ++this.seq;
      const env = {
        v: 1,
        gw: PROBE_GW,
        boot: this.boot,
        seq,
        id: uuidv7(Date.now()),
        ts: new Date().toISOString(),
        clock_synced: true,
        historical: false,
        data: { code: 'link_changed', severity: 'info', message: `probe ${seq}` },
      };
      this.sentAt.set(seq, performance.now());
      this.client.publish(`${PREFIX}/${PROBE_GW}/event`, encodeEnvelope(env), { qos: 1 });
      await sleep(this.everyMs);
    }
  }

  async pollLoop() {
    while (this.running || this.sentAt.size > 0) {
      if (this.sentAt.size > 0) {
        const min = Math.min(...this.sentAt.keys());
        const text =
          this.store.dialect === 'sqlite'
            ? 'SELECT seq FROM messages WHERE gw = ? AND seq >= ?'
            : 'SELECT seq FROM messages WHERE gw = $1 AND seq >= $2';
        const rows = await this.store.query(text, [PROBE_GW, min]).catch(() => []);
        const now = performance.now();
        for (const r of rows) {
          const seq = Number(r.seq);
          const at = this.sentAt.get(seq);
          if (at === undefined) continue;
          this.sentAt.delete(seq);
          if (seq >= (this.fromSeq ?? 0)) this.latencies.push(now - at);
        }
      }
      if (!this.running && this.stopBy < performance.now()) break;
      await sleep(this.pollMs);
    }
  }

  /** Stops publishing; waits up to `waitMs` for the last probes to become queryable. */
  async stop(waitMs = 30_000) {
    this.running = false;
    this.stopBy = performance.now() + waitMs;
    await this.loops;
    await this.client.endAsync(true);
    const from = this.fromSeq ?? 0;
    return {
      sent: this.seq,
      unseen: this.sentAt.size,
      unseenMarked: [...this.sentAt.keys()].filter((s) => s >= from).length,
      waitMs,
    };
  }
}
