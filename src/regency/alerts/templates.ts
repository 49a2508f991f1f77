import { WIB_OFFSET_MS } from '../../core/wib.js';

/**
 * Alert message text: plain strings with `{placeholder}` fields, filled by substitution from a
 * fixed list (no expressions, no code, no access to anything but the fields below). A field
 * the list does not hold is refused when the config is loaded.
 */
export const PLACEHOLDERS = [
  'code',
  'name',
  'kecamatan',
  'isp',
  'state',
  'layer',
  'since',
  'ended',
  'duration',
  'regency',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type AlertLanguage = 'id' | 'en';
export type AlertKind = 'down' | 'reminder' | 'up' | 'security';

const FIELD = /\{([a-z_]+)\}/g;

export const DEFAULT_TEMPLATES: Record<AlertLanguage, Record<AlertKind, string>> = {
  id: {
    security:
      'KEAMANAN: pesan dari Desa {name}, Kec. {kecamatan} ({code}) ditolak dan dikarantina: {state}. Pertama {since} WIB.',
    down: 'GANGGUAN: Desa {name}, Kec. {kecamatan} ({code}) {state} sejak {since} WIB. Lapisan: {layer}.',
    reminder:
      'MASIH TERGANGGU: Desa {name}, Kec. {kecamatan} ({code}) masih {state} sejak {since} WIB, sudah {duration}. Lapisan: {layer}.',
    up: 'PULIH: Desa {name}, Kec. {kecamatan} ({code}) normal kembali pukul {ended} WIB setelah {duration}.',
  },
  en: {
    security:
      'SECURITY: a message from {name} village, {kecamatan} ({code}) was refused and quarantined: {state}. First at {since} WIB.',
    down: 'DOWN: {name} village, {kecamatan} ({code}) {state} since {since} WIB. Layer: {layer}.',
    reminder:
      'STILL DOWN: {name} village, {kecamatan} ({code}) still {state} since {since} WIB, for {duration} now. Layer: {layer}.',
    up: 'BACK: {name} village, {kecamatan} ({code}) is back at {ended} WIB after {duration}.',
  },
};

const STATE_TEXT: Record<AlertLanguage, Record<string, string>> = {
  id: {
    down: 'terputus',
    silent: 'senyap (tidak ada kabar)',
    offline: 'mati (offline)',
    gw_mismatch: 'mengaku sebagai desa lain',
    revoked: 'identitasnya sudah dicabut',
  },
  en: {
    down: 'down',
    silent: 'silent (no messages)',
    offline: 'offline',
    gw_mismatch: 'it claimed to be another village',
    revoked: 'its identity is revoked',
  },
};

const LAYER_TEXT: Record<AlertLanguage, Record<string, string>> = {
  id: {
    lan: 'jaringan lokal desa',
    isp: 'penyedia internet (ISP)',
    dns: 'DNS',
    internet: 'internet',
    regency: 'server kabupaten',
    none: 'tidak diketahui',
  },
  en: {
    lan: 'village LAN',
    isp: 'internet provider (ISP)',
    dns: 'DNS',
    internet: 'internet',
    regency: 'regency server',
    none: 'unknown',
  },
};

/** The placeholders a template names that the list does not hold. */
export function unknownPlaceholders(text: string): string[] {
  const known = new Set<string>(PLACEHOLDERS);
  return [...text.matchAll(FIELD)].map((m) => m[1] as string).filter((n) => !known.has(n));
}

export interface AlertFacts {
  code: string;
  name: string | null;
  kecamatan: string | null;
  isp: string | null;
  /** The bad state the episode began with: down | silent | offline. */
  state: string;
  fault_layer: string | null;
  sinceMs: number;
  endedMs: number | null;
  /** How long so far, for a reminder while the episode lasts (else ended − since). */
  lastedMs?: number;
  regency: string;
}

/** Fills a template. Values are inserted as text, once: a `{…}` inside a value stays as is. */
export function render(template: string, facts: AlertFacts, lang: AlertLanguage): string {
  const values: Record<Placeholder, string> = {
    code: facts.code,
    name: facts.name ?? facts.code,
    kecamatan: facts.kecamatan ?? '—',
    isp: facts.isp ?? '—',
    state: STATE_TEXT[lang][facts.state] ?? facts.state,
    layer: LAYER_TEXT[lang][facts.fault_layer ?? 'none'] ?? facts.fault_layer ?? '—',
    since: wibClock(facts.sinceMs),
    ended: facts.endedMs === null ? '—' : wibClock(facts.endedMs),
    duration:
      facts.endedMs !== null
        ? duration(facts.endedMs - facts.sinceMs, lang)
        : facts.lastedMs !== undefined
          ? duration(facts.lastedMs, lang)
          : '—',
    regency: facts.regency,
  };
  return template.replace(FIELD, (whole, name: string) =>
    Object.hasOwn(values, name) ? values[name as Placeholder] : whole,
  );
}

/** "2026-12-06 10:15" in WIB. */
function wibClock(ms: number): string {
  return new Date(ms + WIB_OFFSET_MS).toISOString().replace('T', ' ').slice(0, 16);
}

/** "1 j 5 m" / "1 h 5 min"; under a minute in seconds. */
export function duration(ms: number, lang: AlertLanguage): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const [d, h, m] = [Math.floor(s / 86_400), Math.floor((s % 86_400) / 3600), Math.floor((s % 3600) / 60)];
  const u = lang === 'id' ? { d: 'hr', h: 'j', m: 'm', s: 'd' } : { d: 'd', h: 'h', m: 'min', s: 's' };
  if (s < 60) return `${s} ${u.s}`;
  return [d ? `${d} ${u.d}` : '', h ? `${h} ${u.h}` : '', m ? `${m} ${u.m}` : ''].filter(Boolean).join(' ');
}
