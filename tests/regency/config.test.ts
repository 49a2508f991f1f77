import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveRegencyConfigPath, validateRegencyConfigText } from '../../src/regency/config.js';
import { parseVillagesCsv, VillageRegistry } from '../../src/regency/villages.js';
import { REPO_ROOT } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

describe('regency config', () => {
  const tmp = tempDir('kgw-regency-config-');
  afterAll(() => tmp.cleanup());

  it('config/regency.default.yaml is valid as shipped', () => {
    const file = join(REPO_ROOT, 'config/regency.default.yaml');
    const r = validateRegencyConfigText(readFileSync(file, 'utf8'), file);
    expect(r.ok ? [] : r.issues).toEqual([]);
    if (r.ok) {
      expect(r.config.data_dir).toBe(join(REPO_ROOT, 'var/regency'));
      expect(r.config.database.url).toBe('');
      expect(r.config.http.listen).toBe('127.0.0.1:8090');
      expect(r.config.mqtt.url).toBe('mqtt://127.0.0.1:1883');
    }
  });

  it('config/regency.example.yaml is valid once its secret files exist', () => {
    const root = join(tmp.path, 'etc-root');
    const text = readFileSync(join(REPO_ROOT, 'config/regency.example.yaml'), 'utf8').replaceAll(
      '/etc/kampung-gateway',
      root,
    );
    const files = [...text.matchAll(/^\s*[a-z_]+_file:\s*(\/\S+)/gm)].map((m) => m[1] as string);
    expect(files.length).toBeGreaterThanOrEqual(1);
    for (const f of files) {
      mkdirSync(join(f, '..'), { recursive: true });
      writeFileSync(f, 'secret\n');
    }
    // Its villages_file is relative: read from the config file's own folder (config/).
    const r = validateRegencyConfigText(text, join(REPO_ROOT, 'config/regency.yaml'));
    expect(r.ok ? [] : r.issues).toEqual([]);
  });

  it('names every problem by key path, unknown keys included', () => {
    const r = validateRegencyConfigText(
      [
        'regency: { name: X, colour: red }',
        'database: { url: "mysql://x" }',
        'mqtt: { url: "mqtt://b", shared_group: "g" }',
        'silent_after_s: 1',
      ].join('\n'),
      join(tmp.path, 'r.yaml'),
    );
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.issues.map((i) => i.path).sort()).toEqual([
      'database.url',
      'regency.colour',
      'silent_after_s',
    ]);
    const shared = validateRegencyConfigText(
      'regency: { name: X }\nmqtt: { url: "mqtt://b", shared_group: "g" }',
      join(tmp.path, 'r.yaml'),
    );
    expect(shared.ok ? [] : shared.issues.map((i) => i.path)).toEqual(['mqtt.shared_group']);
    const pw = validateRegencyConfigText(
      'regency: { name: X }\ndatabase: { url: "postgres://u:geheim@db/x" }\nmqtt: { url: "mqtt://b" }',
      join(tmp.path, 'r.yaml'),
    );
    expect(pw.ok ? [] : pw.issues.map((i) => [i.path, i.message.includes('geheim')])).toEqual([
      ['database.url', false],
    ]);
  });

  it('--config defaults to $KAMPUNG_REGENCY_CONFIG, else /etc/kampung-gateway/regency.yaml', () => {
    expect(resolveRegencyConfigPath(undefined, {})).toBe('/etc/kampung-gateway/regency.yaml');
    expect(resolveRegencyConfigPath(undefined, { KAMPUNG_REGENCY_CONFIG: '/x/r.yaml' })).toBe('/x/r.yaml');
    expect(resolveRegencyConfigPath('/y.yaml', { KAMPUNG_REGENCY_CONFIG: '/x/r.yaml' })).toBe('/y.yaml');
  });
});

describe('villages registry', () => {
  it('ships the 203 villages of Banyuwangi with their kecamatan', () => {
    const reg = VillageRegistry.load(undefined);
    expect(reg.size).toBe(203);
    expect(reg.get('3510170012')).toEqual({
      code: '3510170012',
      name: 'KEMIREN',
      kecamatan: 'GLAGAH',
      isp: null,
    });
  });

  it('reads code,name,kecamatan[,isp] with quotes, and reports every bad line', () => {
    const v = parseVillagesCsv(
      'code,name,kecamatan,isp\n3510170012,"Kemiren, Desa",Glagah,Telkom\n3510170011,Olehsari,Glagah,\n',
      'f',
    );
    expect(v).toEqual([
      { code: '3510170012', name: 'Kemiren, Desa', kecamatan: 'Glagah', isp: 'Telkom' },
      { code: '3510170011', name: 'Olehsari', kecamatan: 'Glagah', isp: null },
    ]);
    expect(() => parseVillagesCsv('code,name\n1,x\n', 'f')).toThrow(/invalid villages file/);
    try {
      parseVillagesCsv('code,name,kecamatan\n12,a,b\n3510170012,a,b\n3510170012,a,b\n', 'f');
    } catch (err) {
      expect((err as { code: string }).code).toBe('GW_ERR_CONFIG_INVALID');
      expect((err as { details: { issues: unknown[] } }).details.issues).toHaveLength(2);
    }
  });
});
