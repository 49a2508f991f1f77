import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, validateConfigText } from '../../src/config/loader.js';
import { isGwError } from '../../src/core/errors.js';
import { MAIN_JS, REPO_ROOT } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('kgw-config-');
afterAll(() => tmp.cleanup());

function write(name: string, text: string): string {
  const p = join(tmp.path, name);
  writeFileSync(p, text);
  return p;
}

const MINIMAL = `
gateway: { id: "3510170012", name: "Desa Kemiren" }
data_dir: ./data
`;

describe('config loader', () => {
  it('applies defaults, resolves paths against the config file, and freezes the result', () => {
    const { config } = loadConfig(write('minimal.yaml', MINIMAL));
    expect(config.data_dir).toBe(join(tmp.path, 'data'));
    expect(config.log_level).toBe('info');
    expect(config.http).toMatchObject({ listen: '0.0.0.0:8080', metrics: true });
    expect(config.uplink.down_after).toBe(4);
    expect(config.uplink.up_after).toBe(4);
    expect(config.cache.max_mb).toBe(256);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.http)).toBe(true);
    expect(() => {
      (config as { log_level: string }).log_level = 'debug';
    }).toThrow();
  });

  it('reports three different mistakes together, each with its key path', () => {
    const text = `
gateway: { id: "35101700", name: "Desa Kemiren" }
data_dir: ./data
http: { listen: "0.0.0.0:8080", metric: true }
uplink:
  probes:
    - { name: router, layer: lan, type: icmp, host: 192.168.1.1 }
    - { name: ont, layer: fiber, type: icmp, host: 10.0.0.1 }
`;
    const r = validateConfigText(text, join(tmp.path, 'three.yaml'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const paths = r.issues.map((i) => i.path).sort();
    expect(paths).toEqual(['gateway.id', 'http.metric', 'uplink.probes[1].layer']);
    expect(r.issues.find((i) => i.path === 'http.metric')?.message).toBe('unknown key');
    expect(r.issues.find((i) => i.path === 'uplink.probes[1].layer')?.message).toMatch(/one of/);
  });

  it('checks per-type probe fields, duplicate ids and unreadable secret files', () => {
    const text = `
gateway: { id: "3510170012", name: "Desa Kemiren" }
uplink:
  probes:
    - { name: dns, layer: dns, type: dns, server: 1.1.1.1 }
    - { name: dns, layer: internet, type: tcp, host: 1.1.1.1, port: 443 }
devices:
  - { id: adm-1, name: "Anjungan 1", kind: kiosk, token_file: ./no-such.token }
mqtt: { url: "mqtt://127.0.0.1:1883", password_file: /nonexistent/secret }
`;
    const r = validateConfigText(text, join(tmp.path, 'refine.yaml'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => i.path).sort()).toEqual([
      'devices[0].token_file',
      'mqtt.password_file',
      'uplink.probes[0].query',
      'uplink.probes[1].name',
    ]);
  });

  // Before: only keys named `*_cron` were checked, so uplink.throughput.cron passed and the
  // scheduler threw at start.
  it('checks every cron expression by the schema, whatever its key is called', () => {
    const text = (throughput: string, prefetch: string) => `
gateway: { id: "3510170012", name: "Desa Kemiren" }
uplink: { throughput: { cron: ${JSON.stringify(throughput)} } }
cache:
  upstreams:
    - { name: layanan, base_url: "http://127.0.0.1:9", prefetch_cron: ${JSON.stringify(prefetch)} }
`;
    const bad = validateConfigText(text('99 99 * * *', '0 0 31 2 *'), join(tmp.path, 'cron.yaml'));
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.issues).toEqual([
      { path: 'uplink.throughput.cron', message: 'not a valid cron expression: "99 99 * * *"' },
      { path: 'cache.upstreams[0].prefetch_cron', message: 'not a valid cron expression: "0 0 31 2 *"' },
    ]);
    expect(validateConfigText(text('*/15 6-18 * * 1-5', '0 4 * * *'), join(tmp.path, 'cron.yaml')).ok).toBe(
      true,
    );
  });

  it('rejects YAML syntax errors and duplicate keys with a line number', () => {
    const r = validateConfigText('gateway:\n  id: "1"\n  id: "2"\n', join(tmp.path, 'dup.yaml'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]?.path).toMatch(/^line \d+/);
  });

  it('raises a typed error with the issues for an invalid file', () => {
    const file = write('bad.yaml', 'gateway: { id: "x" }\nsurprise: 1\n');
    try {
      loadConfig(file);
      expect.unreachable();
    } catch (err) {
      expect(isGwError(err, 'GW_ERR_CONFIG_INVALID')).toBe(true);
    }
  });

  it('config/default.yaml is valid', () => {
    const r = validateConfigText(
      readFileSync(join(REPO_ROOT, 'config/default.yaml'), 'utf8'),
      join(REPO_ROOT, 'config/default.yaml'),
    );
    expect(r.ok ? [] : r.issues).toEqual([]);
    expect(r.ok ? r.advisories : []).toEqual([]);
  });

  it('config/example.yaml is valid once its secret files exist', () => {
    // The example names files under /etc/kampung-gateway; recreate that tree in a temp root.
    const root = join(tmp.path, 'etc-root');
    const text = readFileSync(join(REPO_ROOT, 'config/example.yaml'), 'utf8').replaceAll(
      '/etc/kampung-gateway',
      root,
    );
    // Absolute paths on lines that are not comments (a comment's `client_file: berkas …` is prose).
    const files = [...text.matchAll(/^[^#\n]*?_file:\s*(\/[^\s,}]+)/gm)].map((m) => m[1]!);
    expect(files.every((f) => f.startsWith(root))).toBe(true);
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) {
      mkdirSync(join(f, '..'), { recursive: true });
      // Device tokens must be strong enough for check-config (128 bits), as the example says.
      writeFileSync(f, f.endsWith('.token') ? `${randomBytes(16).toString('hex')}\n` : 'secret\n');
    }
    const r = validateConfigText(text, join(root, 'config.yaml'));
    expect(r.ok ? [] : r.issues).toEqual([]);
    expect(r.ok ? r.advisories : []).toEqual([]);
  });
});

describe('kampung-gw check-config', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [MAIN_JS, ...args], { encoding: 'utf8' });

  it('exits 0 on a valid file', () => {
    const r = run('check-config', '--config', join(REPO_ROOT, 'config/default.yaml'));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/OK/);
  });

  it('exits 1 and prints every error with its key path', () => {
    const file = write(
      'cli-bad.yaml',
      'gateway: { id: "1", name: "" }\nlog_level: loud\nhttp: { listen: "nowhere" }\n',
    );
    const r = run('check-config', '--config', file);
    expect(r.status).toBe(1);
    for (const path of ['gateway.id', 'gateway.name', 'log_level', 'http.listen'])
      expect(r.stderr).toContain(path);
  });

  it('uses $KAMPUNG_GW_CONFIG when --config is absent', () => {
    const r = spawnSync(process.execPath, [MAIN_JS, 'check-config', '--json'], {
      encoding: 'utf8',
      env: { ...process.env, KAMPUNG_GW_CONFIG: join(REPO_ROOT, 'config/default.yaml') },
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true });
  });

  it('exits 2 with help on a usage error', () => {
    expect(run('frobnicate').status).toBe(2);
    const r = run('check-config', '--no-such-flag');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Usage/);
    expect(run().status).toBe(2);
  });
});
