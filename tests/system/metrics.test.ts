import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../../src/app.js';
import { readStatus } from '../../src/cli/read-status.js';
import { createLogger } from '../../src/core/logger.js';
import { tidyExposition } from '../../src/system/metrics.js';
import { REPO_ROOT } from '../helpers/daemon.js';
import { testConfig } from '../helpers/test-config.js';
import { tempDir } from '../helpers/tmp.js';
import { parseProm } from './prom-parse.js';

function makeApp(dir: string, metrics: boolean): App {
  const config = testConfig(dir, {
    data_dir: `${dir}/data-${metrics}`,
    http: { listen: '127.0.0.1:0', metrics },
    devices: [{ id: 'adm-1', name: 'Anjungan 1', kind: 'kiosk' }],
    cache: { upstreams: [{ name: 'layanan', base_url: 'http://127.0.0.1:9/api' }] },
    system: { health_interval_s: 5 },
  });
  return buildApp({ config, log: createLogger({ level: 'warn' }), version: '0.0.0-test' });
}

describe('GET /metrics', () => {
  const tmp = tempDir('kgw-metrics-');
  let app: App;
  let off: App;
  let server: FastifyInstance;

  beforeAll(async () => {
    app = makeApp(tmp.path, true);
    off = makeApp(tmp.path, false);
    await app.start();
    await off.start();
    server = app.server;
  });

  afterAll(async () => {
    await app?.stop();
    await off?.stop();
    tmp.cleanup();
  });

  it('serves Prometheus text that a strict parser accepts, with kampung_ names and the standard process ones', async () => {
    // The first health reading is taken shortly after start.
    await new Promise((r) => setTimeout(r, 1200));
    const res = await server.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parseProm(res.body);
    for (const f of families.values()) {
      expect(/^(kampung|process|nodejs)_/.test(f.name), f.name).toBe(true);
      expect(f.name.startsWith('kampung_process_') || f.name.startsWith('kampung_nodejs_'), f.name).toBe(
        false,
      );
      expect(f.help.length, f.name).toBeGreaterThan(0);
      if (f.type === 'counter') expect(f.name.endsWith('_total'), f.name).toBe(true);
      else expect(f.name.endsWith('_total'), `${f.name} is a ${f.type}`).toBe(false);
      for (const sample of f.samples) expect(Number.isNaN(sample.value), f.name).toBe(false);
    }
    const type = (n: string) => families.get(n)?.type;
    expect(type('kampung_link_verdict')).toBe('gauge');
    expect(type('kampung_outbox_dropped_total')).toBe('counter');
    expect(type('kampung_cache_requests_total')).toBe('counter');
    expect(type('process_resident_memory_bytes')).toBe('gauge');
    expect(type('process_cpu_seconds_total')).toBe('counter');
    expect(type('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(type('kampung_storage_written_bytes_total')).toBe('counter');

    const verdict = families.get('kampung_link_verdict')?.samples ?? [];
    expect(verdict.find((s) => s.labels.verdict === 'unknown')?.value).toBe(1);
    expect(verdict.reduce((a, s) => a + s.value, 0)).toBe(1);
    const dev = families.get('kampung_device_state')?.samples ?? [];
    expect(dev.find((s) => s.labels.device === 'adm-1' && s.labels.state === 'unknown')?.value).toBe(1);
    expect(families.get('kampung_cache_requests_total')?.samples).toHaveLength(3);
    const rss = families.get('process_resident_memory_bytes')?.samples[0]?.value ?? 0;
    expect(rss).toBeGreaterThan(10 * 1024 * 1024);
    const mem = families.get('kampung_system_memory_used_ratio')?.samples[0]?.value;
    expect(mem).toBeGreaterThan(0);
    expect(mem).toBeLessThan(1);
    expect(families.get('kampung_system_disk_free_bytes')?.samples[0]?.value).toBeGreaterThan(0);
    expect(families.get('kampung_clock_synced')?.samples).toHaveLength(1);
  });

  it('passes promtool check metrics on a live scrape (the first one included)', async () => {
    const fresh = makeApp(tmp.path, true);
    await fresh.start();
    try {
      for (let i = 0; i < 2; i++) {
        const body = (await fresh.server.inject({ method: 'GET', url: '/metrics' })).body;
        const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
        expect(r.error, 'promtool missing: apt-get install prometheus').toBeUndefined();
        expect(`${r.stdout}${r.stderr}`.trim(), `scrape ${i + 1}`).toBe('');
        expect(r.status).toBe(0);
      }
    } finally {
      await fresh.stop();
    }
  });

  it('ships alert rules promtool accepts and a dashboard, naming only metrics a scrape has', async () => {
    const rules = join(REPO_ROOT, 'docs', 'grafana', 'kampung-gateway.rules.yml');
    const check = spawnSync('promtool', ['check', 'rules', rules], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const dashboard = JSON.parse(
      readFileSync(join(REPO_ROOT, 'docs', 'grafana', 'kampung-gateway.dashboard.json'), 'utf8'),
    ) as { panels: Array<{ targets: Array<{ expr: string }> }> };
    const exprs = [
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)),
      ...[...readFileSync(rules, 'utf8').matchAll(/expr: (.+)/g)].map((m) => m[1] ?? ''),
    ];
    const scraped = parseProm((await server.inject({ method: 'GET', url: '/metrics' })).body);
    const named = new Set(exprs.flatMap((e) => e.match(/\b(kampung|process|nodejs)_[a-z0-9_]+/g) ?? []));
    expect(named.size).toBeGreaterThan(15);
    // Metrics that only appear with a sensor or a Raspberry Pi are declared all the same.
    const optional = new Set(['kampung_system_temperature_celsius', 'kampung_system_throttle_flag']);
    for (const name of named) if (!optional.has(name)) expect(scraped.has(name), name).toBe(true);
  });

  it('leaves absent sensors out instead of reporting 0', async () => {
    const res = await server.inject({ method: 'GET', url: '/metrics' });
    const families = parseProm(res.body);
    const snap = app.deps.status.snapshot();
    const temp = families.get('kampung_system_temperature_celsius')?.samples ?? [];
    if (snap.system.temperature_c === null) expect(temp).toHaveLength(0);
    else expect(temp[0]?.value).toBe(snap.system.temperature_c);
    const thr = families.get('kampung_system_throttled')?.samples ?? [];
    expect(thr).toHaveLength(snap.system.throttled === null ? 0 : 1);
    // No link layers configured: no per-layer loss/RTT samples at all.
    expect(families.get('kampung_link_layer_loss_ratio')?.samples).toHaveLength(0);
  });

  it('carries no personal data: only config ids in labels', async () => {
    const res = await server.inject({ method: 'GET', url: '/metrics' });
    // A NIK-shaped run of 16 digits anywhere but in a sample's fraction: a float such as
    // 0.3027099999999999 (CPU seconds) is not personal data and must not fail this.
    expect(res.body).not.toMatch(/(?<![.\d])\d{16}(?!\d)/);
    expect('x{id="3510171234567890"} 1').toMatch(/(?<![.\d])\d{16}(?!\d)/);
    expect('process_cpu_seconds_total 0.3027099999999999').not.toMatch(/(?<![.\d])\d{16}(?!\d)/);
    expect(res.body).not.toContain('Anjungan 1');
  });

  it('persists the system section so `kampung-gw status` shows it after the daemon stopped', async () => {
    await off.stop();
    const status = await readStatus(off.deps.config, '0.0.0-test', createLogger({ level: 'fatal' }));
    expect(status.system.rss_mb).toBeGreaterThan(0);
    expect((status.system as unknown as { disk_state: string }).disk_state).toBe('ok');
    expect(status.system.memory_used_pct).toBeGreaterThan(0);
  });

  it('is 404 when http.metrics is false', async () => {
    off = makeApp(tmp.path, false);
    const res = await off.server.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: 'GW_ERR_NOT_FOUND' });
  });
});

describe('tidyExposition', () => {
  it('drops NaN samples, an empty lag histogram and gauges named _total, and keeps the rest', () => {
    const text = '# HELP a x\n# TYPE a gauge\na NaN\nb{l="NaN"} 1\nc Nan 1700000000\nd 2\n';
    expect(tidyExposition(text)).toBe('# HELP a x\n# TYPE a gauge\nb{l="NaN"} 1\nd 2\n');
    const lag = [
      'nodejs_eventloop_lag_min_seconds 9223372036.854776',
      'nodejs_eventloop_lag_mean_seconds Nan',
      'nodejs_eventloop_lag_p99_seconds 5.11e-7',
      'nodejs_eventloop_lag_seconds 0',
      '# TYPE nodejs_active_handles_total gauge',
      'nodejs_active_handles_total 9',
      'nodejs_active_handles{type="Socket"} 2',
    ].join('\n');
    expect(tidyExposition(lag)).toBe(
      'nodejs_eventloop_lag_seconds 0\nnodejs_active_handles{type="Socket"} 2',
    );
  });
});

describe('the strict text-format parser used above', () => {
  it('rejects malformed expositions', () => {
    expect(() => parseProm('kampung_x 1\n')).toThrow(/without TYPE/);
    expect(() => parseProm('# TYPE kampung_x gauge\nkampung_x{a="1",a="2"} 1\n')).toThrow(/duplicate label/);
    expect(() => parseProm('# TYPE kampung_x gauge\nkampung_x one\n')).toThrow(/bad value/);
    expect(() => parseProm('# TYPE kampung_x gauge\nkampung_x 1\nkampung_x 2\n')).toThrow(/duplicate series/);
    expect(() => parseProm('# TYPE kampung_x bogus\n')).toThrow(/bad type/);
    expect(
      parseProm('# HELP kampung_x h\n# TYPE kampung_x gauge\nkampung_x{l="a\\"b"} Nan\n').get('kampung_x')
        ?.samples[0]?.labels.l,
    ).toBe('a"b');
  });
});
