import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MetaRepo } from '../../store/meta-repo.js';

/** No 0/O, 1/I/L: read aloud over the phone and typed on a phone without mistakes. */
export const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const LENGTH = 10;
export const SETUP_CODE_FILE = 'setup-code';
const META_KEY = 'setup_code_sha256';

/**
 * The one-time setup code that creates the first technician (there is no default password).
 * The database keeps only its SHA-256 (the code is random, ~50 bits, and lives minutes to
 * days, so a slow hash adds nothing). The plaintext is written to `<data_dir>/setup-code`
 * with mode 0600 so that `kampung-gw status`, run as root or the service user, can show it;
 * anyone who can read that file can read the database anyway. Both are deleted as soon as a
 * technician exists.
 */
export class SetupCodes {
  private readonly meta: MetaRepo;
  private readonly file: string;

  constructor(deps: { meta: MetaRepo; dataDir: string }) {
    this.meta = deps.meta;
    this.file = join(deps.dataDir, SETUP_CODE_FILE);
  }

  pending(): boolean {
    return this.meta.get(META_KEY) !== undefined;
  }

  /** Re-uses the stored code if its file still matches, else makes a new one. Returns the plaintext. */
  ensure(): string {
    const stored = this.meta.get(META_KEY);
    const existing = readCodeFile(this.file);
    if (stored && existing && digest(existing) === stored) return existing;
    const code = generateCode();
    writeFileSync(this.file, `${code}\n`, { mode: 0o600 });
    chmodSync(this.file, 0o600);
    this.meta.set(META_KEY, digest(code));
    return code;
  }

  matches(code: string): boolean {
    const stored = this.meta.get(META_KEY);
    if (!stored) return false;
    const a = Buffer.from(digest(code), 'hex');
    const b = Buffer.from(stored, 'hex');
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Called inside the transaction that creates the first technician. */
  consume(): void {
    this.meta.delete(META_KEY);
  }

  removeFile(): void {
    rmSync(this.file, { force: true });
  }
}

export function generateCode(): string {
  let s = '';
  for (let i = 0; i < LENGTH; i++) s += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return `${s.slice(0, 5)}-${s.slice(5)}`;
}

/** Case, spaces and dashes do not matter when typing the code. */
export function normalizeCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '');
}

function digest(code: string): string {
  return createHash('sha256').update(normalizeCode(code)).digest('hex');
}

/** The plaintext for `kampung-gw status`; undefined when absent or unreadable. */
export function readCodeFile(path: string): string | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return text || undefined;
  } catch {
    return undefined;
  }
}

export function setupCodePath(dataDir: string): string {
  return join(dataDir, SETUP_CODE_FILE);
}
