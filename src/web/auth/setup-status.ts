import { accessSync, constants, existsSync } from 'node:fs';
import { readCodeFile, setupCodePath } from './setup-code.js';

export interface SetupInfo {
  pending: boolean;
  /** Null when the file exists but this user may not read it (mode 0600, service user). */
  code: string | null;
}

/** For `kampung-gw status`: the unused one-time setup code, if any. */
export function readSetupInfo(dataDir: string): SetupInfo | undefined {
  const path = setupCodePath(dataDir);
  if (!existsSync(path)) return undefined;
  try {
    accessSync(path, constants.R_OK);
  } catch {
    return { pending: true, code: null };
  }
  return { pending: true, code: readCodeFile(path) ?? null };
}

export function formatSetupInfo(info: SetupInfo): string {
  return info.code
    ? `Kode penyiapan (one-time setup code): ${info.code} — buka halaman teknisi dan buat akun pertama / open the page and create the first account`
    : 'Kode penyiapan ada, tetapi tidak bisa dibaca: jalankan sebagai root atau kampung-gw / a setup code exists; run as root or kampung-gw to see it';
}
