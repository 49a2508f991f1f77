import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { waitFor } from '../helpers/net.js';

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
  json: Record<string, unknown>;
}

/**
 * A regency-side consumer with a persistent session (clean: false), so messages queued for it
 * survive its own disconnects and broker restarts (Mosquitto persistence is on in TestBroker).
 */
export class Subscriber {
  client: MqttClient | undefined;
  messages: Received[] = [];

  static async connect(url: string, filter: string, opts: IClientOptions = {}): Promise<Subscriber> {
    const s = new Subscriber();
    const client = mqtt.connect(url, {
      clientId: `sub-${Math.random().toString(16).slice(2)}`,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 200,
      ...opts,
    });
    s.client = client;
    client.on('message', (topic, payload, packet) => {
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(payload.toString()) as Record<string, unknown>;
      } catch {
        // kept raw
      }
      s.messages.push({ topic, payload: payload.toString(), retain: packet.retain, json });
    });
    client.on('error', () => undefined);
    await waitFor(() => client.connected, 10_000);
    await client.subscribeAsync(filter, { qos: 1 });
    return s;
  }

  on(topicSuffix: string): Received[] {
    return this.messages.filter((m) => m.topic.endsWith(topicSuffix));
  }

  async close(): Promise<void> {
    await this.client?.endAsync(true);
  }
}

/** Every id of every usage event in the received envelopes. */
export function usageIds(msgs: Received[]): Set<string> {
  const ids = new Set<string>();
  for (const m of msgs) {
    const data = m.json.data as { events?: Array<{ id: string }> } | undefined;
    for (const e of data?.events ?? []) ids.add(e.id);
  }
  return ids;
}

/** Seqs of envelopes received; `missing` lists the gaps between 1 and the highest seq. */
export function seqGaps(msgs: Received[]): { max: number; missing: number[]; distinct: number } {
  const seqs = new Set<number>();
  for (const m of msgs) if (typeof m.json.seq === 'number') seqs.add(m.json.seq);
  const max = Math.max(0, ...seqs);
  const missing: number[] = [];
  for (let i = 1; i <= max; i++) if (!seqs.has(i)) missing.push(i);
  return { max, missing, distinct: seqs.size };
}
