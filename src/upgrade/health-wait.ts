import { request } from 'node:http';

export interface HealthAnswer {
  status: number;
  ok: boolean;
  version?: string;
  /** The broker connection as /healthz shows it (absent: no MQTT, or a version that does not say). */
  mqtt?: boolean;
}

/** One GET of /healthz with its own timeout; undefined when nothing answers. */
export function getHealth(url: string, timeoutMs: number): Promise<HealthAnswer | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < 4096) body += c;
      });
      res.on('end', () => {
        let parsed: { ok?: unknown; version?: unknown; mqtt?: unknown } = {};
        try {
          parsed = JSON.parse(body) as typeof parsed;
        } catch {
          // not JSON: only the status counts
        }
        resolve({
          status: res.statusCode ?? 0,
          ok: res.statusCode === 200 && parsed.ok === true,
          ...(typeof parsed.version === 'string' ? { version: parsed.version } : {}),
          ...(typeof parsed.mqtt === 'boolean' ? { mqtt: parsed.mqtt } : {}),
        });
      });
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/**
 * Polls /healthz until it answers 200 with ok and the expected version, or the deadline
 * passes. The version matters: the old process may still answer for a moment after a restart,
 * and a healthy old version is no proof for the new one. /healthz answers only once the store
 * is open, which is after the migrations (src/store/store.ts), so a healthy answer also says
 * the schema is migrated. With `requireMqtt` (the old version was connected to the broker) the
 * answer must also say `mqtt: true`: a version that serves but never reaches the regency again
 * would leave the village silent with no one on site to notice.
 */
export async function waitHealthy(o: {
  url: string;
  version: string;
  timeoutMs: number;
  requireMqtt?: boolean;
  /**
   * How long the broker connection may take once /healthz serves the new version (default:
   * timeoutMs): a restarted daemon waits a random part of mqtt.connect_delay_max_s first.
   */
  mqttTimeoutMs?: number;
  intervalMs?: number;
}): Promise<{ healthy: boolean; last?: HealthAnswer; waitedMs: number }> {
  const t0 = Date.now();
  let last: HealthAnswer | undefined;
  for (;;) {
    const serving = last?.ok === true && last.version === o.version;
    const limit = serving && o.requireMqtt ? Math.max(o.timeoutMs, o.mqttTimeoutMs ?? 0) : o.timeoutMs;
    const left = limit - (Date.now() - t0);
    if (left <= 0) return { healthy: false, ...(last ? { last } : {}), waitedMs: Date.now() - t0 };
    last = (await getHealth(o.url, Math.min(2000, left))) ?? last;
    if (last?.ok && last.version === o.version && (!o.requireMqtt || last.mqtt === true))
      return { healthy: true, last, waitedMs: Date.now() - t0 };
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 100));
  }
}
