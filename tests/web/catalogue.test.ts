import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { LogRing } from '../../src/core/log-ring.js';
import { OperationRegistry } from '../../src/modules/operations.js';
import { ActionRegistry } from '../../src/web/action-registry.js';
import { REPO_ROOT } from '../helpers/daemon.js';

const STATIC = join(REPO_ROOT, 'src', 'web', 'static');
const load = (lang: string) =>
  JSON.parse(readFileSync(join(STATIC, 'i18n', `${lang}.json`), 'utf8')) as Record<string, string>;

describe('i18n catalogues', () => {
  const id = load('id');
  const en = load('en');

  it('Indonesian and English have exactly the same keys, none empty', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(id).sort());
    for (const [k, v] of [...Object.entries(id), ...Object.entries(en)]) expect(v.trim(), k).not.toBe('');
  });

  it('placeholders match between languages', () => {
    const vars = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const k of Object.keys(id)) expect(vars(en[k]!), k).toEqual(vars(id[k]!));
  });

  it('every key the page uses exists', () => {
    const used = new Set<string>();
    const walk = (dir: string) => {
      for (const f of readdirSync(dir, { withFileTypes: true })) {
        if (f.isDirectory()) walk(join(dir, f.name));
        else if (f.name.endsWith('.js')) {
          const text = readFileSync(join(dir, f.name), 'utf8');
          for (const m of text.matchAll(/\bt\('([a-z0-9_.-]+)'/g)) used.add(m[1]!);
        }
      }
    };
    walk(join(STATIC, 'js'));
    expect(used.size).toBeGreaterThan(50);
    for (const k of used) expect(id, k).toHaveProperty([k]);
  });

  it('gives the advice of each fault layer', () => {
    for (const layer of ['lan', 'isp', 'dns', 'internet', 'regency'])
      expect(id).toHaveProperty([`advice.${layer}`]);
    expect(id['advice.isp']).toBe('Fiber/ISP putus — periksa lampu LOS pada ONT, hubungi ISP.');
  });
});

describe('log ring', () => {
  it('is bounded, filters by level and blanks the setup code', () => {
    const ring = new LogRing(10);
    for (let i = 0; i < 25; i++)
      ring.write(`${JSON.stringify({ level: i % 5 === 0 ? 'warn' : 'info', msg: `m${i}` })}\n`);
    ring.write(`${JSON.stringify({ level: 'warn', setup_code: 'ABCDE-FGHJK', msg: 'code' })}\n`);
    ring.write('not json at all\n');
    const all = ring.lines('trace', 100);
    expect(all).toHaveLength(10);
    expect(JSON.stringify(all)).not.toContain('ABCDE-FGHJK');
    expect(ring.lines('warn', 100).every((l) => l.level === 'warn')).toBe(true);
    const last = all[all.length - 1]!;
    expect(ring.lines('trace', 100, last.seq)).toHaveLength(0);
    ring.write(`${'x'.repeat(10_000)}\n`);
    expect(JSON.stringify(ring.lines('trace', 1)).length).toBeLessThan(3000);
  });
});

describe('action registry', () => {
  it('is an allow-list with validated arguments', () => {
    const ops = new OperationRegistry();
    const r = new ActionRegistry('diagnostic', ops);
    ops.register({
      name: 'ping',
      page: 'diagnostic',
      description: 'ping a configured target',
      args: Type.Object(
        { target: Type.Union([Type.Literal('router'), Type.Literal('ont')]) },
        { additionalProperties: false },
      ),
      run: async ({ args }) => args.target,
    });
    ops.register({ name: 'wipe', page: 'action', description: '', run: async () => null });
    expect(() =>
      ops.register({ name: 'ping', mqtt: true, description: '', run: async () => null }),
    ).toThrow();
    expect(() =>
      ops.register({ name: 'Bad Name', page: 'action', description: '', run: async () => null }),
    ).toThrow();
    expect(r.resolve('ping', { target: 'router' }).args).toEqual({ target: 'router' });
    expect(() => r.resolve('ping', { target: '8.8.8.8' })).toThrow(
      expect.objectContaining({ code: 'GW_ERR_VALIDATION' }),
    );
    expect(() => r.resolve('shell', {})).toThrow(expect.objectContaining({ code: 'GW_ERR_NOT_FOUND' }));
    // An action is not reachable as a diagnostic.
    expect(() => r.resolve('wipe', {})).toThrow(expect.objectContaining({ code: 'GW_ERR_NOT_FOUND' }));
  });
});
