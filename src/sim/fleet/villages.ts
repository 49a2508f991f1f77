import { readFileSync } from 'node:fs';
import { GwError } from '../../core/errors.js';
import { BUNDLED_VILLAGES_FILE, parseVillagesCsv } from '../../regency/villages.js';
import { hash32 } from './rng.js';

export interface VillageInfo {
  /** 10-digit village code: province (2) · kabupaten (2) · kecamatan (3) · desa (3). */
  code: string;
  name: string;
  kecamatan: string;
  isp: string;
  /** Not in the list: made up to reach the requested count. */
  synthetic: boolean;
}

/** Neutral names: the simulator must not put invented outages on a real company. */
export const SIM_ISPS = ['ISP-A', 'ISP-B', 'ISP-C'] as const;

/** The bundled Banyuwangi list: the regency's own registry file (one list, one parser). */
export function bundledVillagesPath(): string {
  return BUNDLED_VILLAGES_FILE;
}

/**
 * The regency's registry format (`code,name,kecamatan[,isp]`, or the bundled list's own
 * header), parsed by the regency's own parser. Villages without an ISP get one derived from
 * their codes, the same on every run: most of a kecamatan shares one provider.
 */
export function parseVillages(text: string, file = 'villages'): VillageInfo[] {
  const list = parseVillagesCsv(text, file);
  if (list.length === 0) throw new GwError('GW_ERR_USAGE', `${file}: no villages`);
  return list.map((v) => ({ ...v, isp: v.isp ?? defaultIsp(v.code, v.kecamatan), synthetic: false }));
}

export function loadVillages(file: string): VillageInfo[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new GwError('GW_ERR_CONFIG_NOT_FOUND', `cannot read ${file}`, { cause: err });
  }
  return parseVillages(text, file);
}

function defaultIsp(code: string, kecamatan: string): string {
  const primary = hash32(`kec:${kecamatan}`) % SIM_ISPS.length;
  const h = hash32(`village:${code}`);
  const idx = h % 100 < 75 ? primary : (primary + 1 + ((h >>> 8) % (SIM_ISPS.length - 1))) % SIM_ISPS.length;
  return SIM_ISPS[idx] as string;
}

/**
 * The first `n` villages of the list; past its end, made-up ones that cycle through its
 * kecamatan with desa numbers counted down from 999 (real lists count up from 001), then
 * through the next kabupaten codes. Same list and n, same villages.
 */
export function takeVillages(list: readonly VillageInfo[], n: number): VillageInfo[] {
  const out = list.slice(0, n);
  if (n <= list.length) return out;
  const kecs = new Map<string, string>();
  for (const v of list) if (!kecs.has(v.code.slice(0, 7))) kecs.set(v.code.slice(0, 7), v.kecamatan);
  const kecList = [...kecs.entries()];
  const taken = new Set(list.map((v) => v.code));
  for (let i = 0; out.length < n; i++) {
    const [kecCode, kecamatan] = kecList[i % kecList.length] as [string, string];
    const round = Math.floor(i / kecList.length);
    const kab = Number(kecCode.slice(2, 4)) + Math.floor(round / 900);
    if (kab > 99) throw new GwError('GW_ERR_USAGE', `cannot make up ${n} village codes from this list`);
    const code = `${kecCode.slice(0, 2)}${String(kab).padStart(2, '0')}${kecCode.slice(4, 7)}${String(999 - (round % 900)).padStart(3, '0')}`;
    if (taken.has(code)) continue;
    taken.add(code);
    out.push({
      code,
      name: `SIMULASI ${kecamatan} ${round + 1}`,
      kecamatan,
      isp: defaultIsp(code, kecamatan),
      synthetic: true,
    });
  }
  return out;
}

/** The regency's registry format, so a collector can name every simulated village and its ISP. */
export function villagesCsv(villages: readonly VillageInfo[]): string {
  const q = (s: string) => (/[",]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return `code,name,kecamatan,isp\n${villages.map((v) => [v.code, v.name, v.kecamatan, v.isp].map(q).join(',')).join('\n')}\n`;
}
