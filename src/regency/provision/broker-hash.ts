import { pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Broker password hashes in the one form both brokers we generate files for can check:
 * PBKDF2-SHA512, 64-byte key. Mosquitto 2 (`$7$` lines) insists on a 12-byte salt; EMQX's
 * built-in database takes the salt as a string. A salt of 12 ASCII characters is both.
 */
export interface BrokerHash {
  salt: string;
  iterations: number;
  /** base64 of the derived key. */
  hash: string;
}

/**
 * Mosquitto's own default (mosquitto_passwd). The passwords are 192 random bits, so
 * stretching adds nothing, while every (re)connect of 200 villages after a regency outage
 * costs the broker one derivation each.
 */
export const BROKER_HASH_ITERATIONS = 101;
const KEY_BYTES = 64;

/** A fresh broker password: 24 random bytes, base64url (32 characters, 192 bits). */
export function newBrokerPassword(): string {
  return randomBytes(24).toString('base64url');
}

export function hashBrokerPassword(password: string, iterations = BROKER_HASH_ITERATIONS): BrokerHash {
  // 9 random bytes in base64url are exactly 12 ASCII characters (no padding, no `$` or `,`).
  const salt = randomBytes(9).toString('base64url');
  return { salt, iterations, hash: derive(password, salt, iterations).toString('base64') };
}

export function verifyBrokerPassword(password: string, h: BrokerHash): boolean {
  const want = Buffer.from(h.hash, 'base64');
  const got = derive(password, h.salt, h.iterations);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** One line of a Mosquitto 2 password file: `user:$7$iterations$salt(b64)$hash(b64)`. */
export function mosquittoPasswdLine(username: string, h: BrokerHash): string {
  return `${username}:$7$${h.iterations}$${Buffer.from(h.salt, 'ascii').toString('base64')}$${h.hash}`;
}

/** EMQX wants the derived key in hex. */
export function hashHex(h: BrokerHash): string {
  return Buffer.from(h.hash, 'base64').toString('hex');
}

function derive(password: string, salt: string, iterations: number): Buffer {
  return pbkdf2Sync(password, Buffer.from(salt, 'ascii'), iterations, KEY_BYTES, 'sha512');
}
