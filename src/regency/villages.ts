import { readFileSync } from 'node:fs';
import { GwError } from '../core/errors.js';
import { OWN_FILES } from '../paths.js';

/** One village of the registry. `isp` groups the reports by provider; null when not known. */
export interface Village {
  code: string;
  name: string;
  kecamatan: string;
  isp: string | null;
}

/** Banyuwangi's 203 villages (official codes), shipped in the package's config/ folder. */
export const BUNDLED_VILLAGES_FILE = OWN_FILES.villagesCsv;

// Column names: the documented `code,name,kecamatan[,isp]` and the official list's own header.
const ALIASES: Record<string, keyof Village> = {
  code: 'code',
  village_code: 'code',
  kode: 'code',
  name: 'name',
  village_name: 'name',
  nama: 'name',
  kecamatan: 'kecamatan',
  district_name: 'kecamatan',
  isp: 'isp',
};

/** The registry: code → village. A code that is not here is an "unknown village", never dropped. */
export class VillageRegistry {
  private readonly byCode: ReadonlyMap<string, Village>;

  constructor(villages: readonly Village[]) {
    this.byCode = new Map(villages.map((v) => [v.code, v]));
  }

  static load(file: string | undefined): VillageRegistry {
    const path = file ?? BUNDLED_VILLAGES_FILE;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new GwError('GW_ERR_CONFIG_NOT_FOUND', `cannot read villages file ${path}`, { cause: err });
    }
    return new VillageRegistry(parseVillagesCsv(text, path));
  }

  get(code: string): Village | undefined {
    return this.byCode.get(code);
  }

  all(): Village[] {
    return [...this.byCode.values()];
  }

  get size(): number {
    return this.byCode.size;
  }
}

/** Parses the CSV; every bad line is reported at once (GW_ERR_CONFIG_INVALID with line numbers). */
export function parseVillagesCsv(text: string, file: string): Village[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim().toLowerCase());
  const cols = new Map<keyof Village, number>();
  header.forEach((h, i) => {
    const key = ALIASES[h];
    if (key && !cols.has(key)) cols.set(key, i);
  });
  const issues: Array<{ path: string; message: string }> = [];
  for (const need of ['code', 'name', 'kecamatan'] as const)
    if (!cols.has(need)) issues.push({ path: 'line 1', message: `missing column "${need}"` });
  const villages: Village[] = [];
  const seen = new Set<string>();
  if (issues.length === 0) {
    lines.slice(1).forEach((line, i) => {
      if (line.trim() === '' || line.startsWith('#')) return;
      const f = splitCsvLine(line).map((x) => x.trim());
      const at = `line ${i + 2}`;
      const get = (k: keyof Village) => f[cols.get(k) ?? -1] ?? '';
      const code = get('code');
      if (!/^[0-9]{10}$/.test(code))
        issues.push({ path: at, message: `village code must be 10 digits, got "${code}"` });
      else if (seen.has(code)) issues.push({ path: at, message: `duplicate village code ${code}` });
      else if (!get('name') || !get('kecamatan'))
        issues.push({ path: at, message: 'name and kecamatan are required' });
      else {
        seen.add(code);
        villages.push({ code, name: get('name'), kecamatan: get('kecamatan'), isp: get('isp') || null });
      }
    });
  }
  if (issues.length > 0)
    throw new GwError('GW_ERR_CONFIG_INVALID', `invalid villages file ${file}`, { details: { issues } });
  return villages;
}

/** One CSV record: commas separate, double quotes may enclose a field ("" is a quote). */
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
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}
