import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { validateConfigText } from '../../src/config/loader.js';
import { tokenBits } from '../../src/devices/token-strength.js';
import { secretFilesCheck } from '../../src/system/doctor/secret-files.js';
import type { CheckResult } from '../../src/system/doctor/types.js';
import { baseConfig, MAIN_JS, TestDaemon } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const TOKEN = randomBytes(24).toString('base64url');

/** One request from a chosen loopback address (Linux answers on all of 127.0.0.0/8). */
function send(
  d: TestDaemon,
  method: string,
  path: string,
  headers: Record<string, string>,
  localAddress = '127.0.0.1',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${d.url}${path}`, { method, headers, localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

describe('device tokens against the real daemon', () => {
  const tmp = tempDir('kgw-tokens-');
  let d: TestDaemon;
  beforeAll(async () => {
    const file = join(tmp.path, 'adm-1.token');
    writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
    d = await TestDaemon.start({
      config: {
        devices: [{ id: 'adm-1', name: 'Kiosk', kind: 'kiosk', token_file: file }],
        cache: { max_mb: 8, upstreams: [{ name: 'layanan', base_url: 'http://127.0.0.1:9/api' }] },
      },
    });
  });
  afterAll(async () => {
    await d?.dispose();
    tmp.cleanup();
  });
  const json = { 'content-type': 'application/json' };

  it('an unknown device id answers 401 like a known one: ids cannot be listed without a token', async () => {
    for (const path of ['/api/v1/devices/adm-1/heartbeat', '/api/v1/devices/no-such/heartbeat']) {
      const r = await send(d, 'POST', path, json, '127.0.0.9');
      expect(r.status, path).toBe(401);
      expect(JSON.parse(r.body).error).toBe('GW_ERR_UNAUTHORIZED');
    }
    const events = await send(d, 'POST', '/api/v1/devices/no-such/events', json, '127.0.0.9');
    expect(events.status).toBe(401);
  });

  it('250 wrong tokens: 10 answered 401, then 429 on heartbeat and /svc alike; logged without the token; counted', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 250; i++) {
      const guess = `guess-${i}-${randomBytes(8).toString('hex')}`;
      const path = i % 2 === 0 ? '/api/v1/devices/adm-1/heartbeat' : '/svc/layanan/katalog';
      const r = await send(
        d,
        i % 2 === 0 ? 'POST' : 'GET',
        path,
        { ...json, authorization: `Bearer ${guess}` },
        '127.0.0.2',
      );
      statuses.push(r.status);
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10).every((s) => s === 429)).toBe(true);
    // Blocked: even the right token is refused from that address, so a guesser learns nothing.
    const right = { ...json, authorization: `Bearer ${TOKEN}` };
    const blocked = await send(d, 'POST', '/api/v1/devices/adm-1/heartbeat', right, '127.0.0.2');
    expect(blocked.status).toBe(429);
    expect(JSON.parse(blocked.body).error).toBe('GW_ERR_RATE_LIMITED');
    // Another address (the real kiosk) is not affected.
    expect((await send(d, 'POST', '/api/v1/devices/adm-1/heartbeat', right, '127.0.0.3')).status).toBe(204);

    const refused = d.logs.filter((l) => l.msg === 'device token refused');
    expect(refused.length).toBe(10);
    expect(refused.every((l) => l.source === '127.0.0.2')).toBe(true);
    expect(JSON.stringify(d.logs)).not.toMatch(/guess-\d+/);

    const metrics = await (await fetch(`${d.url}/metrics`)).text();
    expect(metrics).toMatch(/^kampung_device_auth_failures_total \d+/m);
    expect(Number(/^kampung_device_auth_throttled_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(
      241,
    );
    expect(metrics).toMatch(/^kampung_device_auth_blocked_sources 1$/m);
  });

  it('a 3-character token and a world-readable token file: check-config refuses, doctor flags', async () => {
    const weak = join(tmp.path, 'weak.token');
    writeFileSync(weak, 'abc\n');
    chmodSync(weak, 0o644);
    const strong = join(tmp.path, 'strong.token');
    writeFileSync(strong, `${randomBytes(16).toString('hex')}\n`);
    chmodSync(strong, 0o600);
    const cfg = {
      ...baseConfig(tmp.path),
      devices: [
        { id: 'weak', name: 'Weak', kind: 'kiosk', token_file: weak },
        { id: 'strong', name: 'Strong', kind: 'kiosk', token_file: strong },
      ],
    };
    const configPath = join(tmp.path, 'weak.yaml');
    writeFileSync(configPath, stringify(cfg));
    const r = spawnSync(process.execPath, [MAIN_JS, 'check-config', '--config', configPath], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/devices\[0\]\.token_file.*128 bits/);
    expect(r.stderr).not.toContain('devices[1]');

    const v = validateConfigText(stringify(cfg), configPath);
    if (!v.ok) throw new Error('schema-valid config expected');
    const results = (await secretFilesCheck.run({
      config: v.config,
      configFile: configPath,
      env: {},
      signal: new AbortController().signal,
    })) as CheckResult[];
    expect(results.map((x) => [x.status, x.facts?.key])).toEqual([['fail', 'devices[0].token_file']]);
    chmodSync(weak, 0o600);
    const fixed = (await secretFilesCheck.run({
      config: v.config,
      configFile: configPath,
      env: {},
      signal: new AbortController().signal,
    })) as CheckResult[];
    expect(fixed.map((x) => x.status)).toEqual(['ok']);
  });
});

describe('token entropy estimate', () => {
  it('22 base64url or 32 hex random characters reach 128 bits; short or repetitive tokens do not', () => {
    expect(tokenBits(randomBytes(16).toString('hex'))).toBeGreaterThanOrEqual(128);
    expect(tokenBits('aB3dE5gH7jK9mN1pQ3sT5v')).toBeGreaterThanOrEqual(128); // 22 base64url
    expect(tokenBits(randomBytes(16).toString('hex').slice(0, 31))).toBeLessThan(128);
    expect(tokenBits('abc')).toBeLessThan(128);
    expect(tokenBits('a'.repeat(200))).toBe(0);
    expect(tokenBits('12121212121212121212121212121212121212')).toBe(0);
  });
});
