import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getHealth, waitHealthy } from '../../src/upgrade/health-wait.js';
import { readVersion } from '../../src/version.js';
import { buildServer } from '../../src/web/build-server.js';
import { memoryLogger } from '../helpers/test-log.js';

// The upgrade's health check against the real /healthz route: the version must match and, when
// the old version was connected to the broker, `mqtt` must say connected too. The status code
// never depends on the broker (SPEC: liveness is independent of the uplink).

let connected = false;
let app: FastifyInstance;
let noMqtt: FastifyInstance;
let url = '';
let noMqttUrl = '';
const version = readVersion();
beforeAll(async () => {
  app = buildServer({ log: memoryLogger().log, dbOk: () => true, mqttConnected: () => connected });
  noMqtt = buildServer({ log: memoryLogger().log, dbOk: () => true });
  url = `${await app.listen({ host: '127.0.0.1', port: 0 })}/healthz`;
  noMqttUrl = `${await noMqtt.listen({ host: '127.0.0.1', port: 0 })}/healthz`;
});
afterAll(async () => {
  await app.close();
  await noMqtt.close();
});

describe('upgrade health check: MQTT connected if it was before', () => {
  it('/healthz shows the broker connection without making it a condition of 200', async () => {
    connected = false;
    expect(await getHealth(url, 2000)).toEqual({ status: 200, ok: true, version, mqtt: false });
    connected = true;
    expect(await getHealth(url, 2000)).toEqual({ status: 200, ok: true, version, mqtt: true });
    // Without an mqtt section the field is absent, so nothing is required of a new version.
    expect(await getHealth(noMqttUrl, 2000)).toEqual({ status: 200, ok: true, version });
  });

  it('requireMqtt waits for mqtt: true, and times out while the broker stays out of reach', async () => {
    connected = false;
    const loose = await waitHealthy({ url, version, timeoutMs: 2000 });
    expect(loose.healthy).toBe(true);
    const strict = await waitHealthy({ url, version, timeoutMs: 600, requireMqtt: true, intervalMs: 50 });
    expect(strict).toMatchObject({ healthy: false, last: { ok: true, mqtt: false } });
    const later = waitHealthy({ url, version, timeoutMs: 5000, requireMqtt: true, intervalMs: 50 });
    setTimeout(() => {
      connected = true;
    }, 300);
    expect((await later).healthy).toBe(true);
    // An answer that does not say (no mqtt section) never satisfies a required connection.
    expect((await waitHealthy({ url: noMqttUrl, version, timeoutMs: 400, requireMqtt: true })).healthy).toBe(
      false,
    );
  });

  it('once the new version serves, the broker gets the extra MQTT grace; a version that never serves gets none', async () => {
    connected = false;
    // Connected after the health timeout but inside the grace: healthy, not rolled back.
    const graced = waitHealthy({
      url,
      version,
      timeoutMs: 300,
      mqttTimeoutMs: 5000,
      requireMqtt: true,
      intervalMs: 50,
    });
    const t = setTimeout(() => {
      connected = true;
    }, 800);
    const g = await graced;
    clearTimeout(t);
    expect(g.healthy).toBe(true);
    expect(g.waitedMs).toBeGreaterThanOrEqual(300);
    // The grace is for the broker only: another version serving gets the plain timeout.
    const other = await waitHealthy({
      url,
      version: '9.9.9',
      timeoutMs: 300,
      mqttTimeoutMs: 60_000,
      requireMqtt: true,
    });
    expect(other.healthy).toBe(false);
    expect(other.waitedMs).toBeLessThan(5000);
  });
});
