import { GwError } from '../../core/errors.js';

/**
 * Regency account roles, each able to do what the one before can and more:
 * - viewer: the wall, village pages, reports, incidents, the completeness view;
 * - operator: also sends commands to villages;
 * - admin: also manages accounts (`regency user ...` on the server today).
 */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What a new account gets unless told otherwise: the least. */
export const DEFAULT_ROLE: Role = 'viewer';

export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v);
}

/** A stored role; anything unreadable counts as the least. */
export function roleOf(v: unknown): Role {
  return isRole(v) ? v : 'viewer';
}

export function atLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** 403 GW_ERR_FORBIDDEN unless the signed-in account's role is at least `needed`. */
export function requireRole(account: { role: Role } | null | undefined, needed: Role): void {
  if (!account || !atLeast(account.role, needed))
    throw new GwError('GW_ERR_FORBIDDEN', `needs the ${needed} role`, {
      details: { role: account?.role ?? null, needed },
    });
}
