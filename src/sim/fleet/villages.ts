import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GwError } from '../../core/errors.js';
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

const BUNDLED = 'regency/data/banyuwangi-villages.csv';

/** The bundled Banyuwangi list: next to the build output if copied there, else in the source tree. */
export function bundledVillagesPath(): string {
  const candidates = [
    new URL(`../../${BUNDLED}`, import.meta.url),
    new URL(`../../../src/${BUNDLED}`, import.meta.url),
  ];
  for (const u of candidates) if (existsSync(u)) return fileURLToPath(u);
  throw new GwError('GW_ERR_CONFIG_NOT_FOUND', `bundled village list ${BUNDLED} not found`);
}

function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

/**
 * Reads either the bundled layout (`village_code,district_code,district_name,village_name`) or
 * the regency's `code,name,kecamatan[,isp]` (header optional). Villages without an ISP get one
 * derived from their codes, the same on every run: most of a kecamatan shares one provider.
 */
export function parseVillages(text: string, file = 'villages'): VillageInfo[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const first = splitCsvLine(lines[0] ?? '');
  const hasHeader = !/^\d{10}$/.test(first[0] ?? '');
  const header = hasHeader ? first.map((h) => h.toLowerCase()) : ['code', 'name', 'kecamatan', 'isp'];
  const col = (...names: string[]) => header.findIndex((h) => names.includes(h));
  const iCode = col('village_code', 'code');
  const iName = col('village_name', 'name');
  const iKec = col('district_name', 'kecamatan');
  const iIsp = col('isp');
  if (iCode < 0 || iName < 0 || iKec < 0)
    throw new GwError('GW_ERR_USAGE', `${file}: expected columns code,name,kecamatan[,isp]`);
  const seen = new Set<string>();
  const out: VillageInfo[] = [];
  for (const [n, line] of lines.slice(hasHeader ? 1 : 0).entries()) {
    const f = splitCsvLine(line);
    const code = f[iCode] ?? '';
    if (!/^\d{10}$/.test(code))
      throw new GwError('GW_ERR_USAGE', `${file}: row ${n + 1}: village code must be 10 digits`);
    if (seen.has(code)) throw new GwError('GW_ERR_USAGE', `${file}: row ${n + 1}: duplicate code ${code}`);
    seen.add(code);
    const kecamatan = f[iKec] || code.slice(0, 7);
    const isp = (iIsp >= 0 ? f[iIsp] : '') || defaultIsp(code, kecamatan);
    out.push({ code, name: f[iName] || code, kecamatan, isp, synthetic: false });
  }
  if (out.length === 0) throw new GwError('GW_ERR_USAGE', `${file}: no villages`);
  return out;
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
