import { createHash } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { WIB_OFFSET_MS } from '../../core/wib.js';
import type { RegencyConfig } from '../config-schema.js';
import type { FleetVillage } from '../fleet.js';
import type { AlertRepo, Episode } from './alert-repo.js';
import { type AlertKind, type AlertLanguage, DEFAULT_TEMPLATES, render } from './templates.js';

/** States that open (or keep open) an alert episode. */
export const BAD_STATES: ReadonlySet<string> = new Set(['down', 'silent', 'offline']);
const DAY_MS = 86_400_000;
/** A gateway's own `since` further back than this is not believed (an unsynced clock). */
const MAX_SINCE_AGE_MS = 30 * 86_400_000;

export interface Hook {
  /** Stable key of the hook (a hash of its URL: the URL itself may hold a token). */
  key: string;
  /** Position in alerts.webhooks, for logs. */
  index: number;
  url: string;
  host: string;
  minDownMs: number;
  /** 0: no reminders. */
  remindMs: number;
  secretFile: string | undefined;
  language: AlertLanguage;
}

export function hooksOf(config: RegencyConfig): Hook[] {
  const a = config.alerts;
  return a.webhooks.map((h, index) => ({
    key: createHash('sha256').update(h.url).digest('hex').slice(0, 16),
    index,
    url: h.url,
    host: new URL(h.url).host,
    minDownMs: h.min_down_s * 1000,
    remindMs: Math.round(h.remind_every_h * 3_600_000),
    secretFile: h.secret_file,
    language: h.language ?? a.language ?? 'id',
  }));
}

/**
 * The alert's id: the same (hook, village, episode, kind[, nth reminder]) always gives the same
 * UUID-shaped id.
 */
export function alertId(hook: string, gw: string, episodeMs: number, kind: AlertKind, nth = 0): string {
  const h = createHash('sha256')
    .update(`${hook}|${gw}|${episodeMs}|${kind}${nth > 0 ? `|${nth}` : ''}`)
    .digest('hex');
  const variant = ((Number.parseInt(h[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface AlertWatchDeps {
  config: RegencyConfig;
  repo: AlertRepo;
  clock: Clock;
  log: Logger;
  hooks: readonly Hook[];
  fleet(): Promise<FleetVillage[]>;
  /**
   * Whether silence means anything now: false while the collector is not receiving (broker
   * unreachable, or just reconnected and its backlog not in yet), when every village would look
   * silent. Default: always.
   */
  receiving?(): boolean;
  /** An alert was queued: the sender may try at once. */
  queued(): void;
}

/**
 * Compares every village's state (the wall's own rule) with its open episode, at each check:
 * a village going down, silent or offline opens an episode; once it has lasted a hook's
 * min_down_s, one "down" alert is queued for that hook (and, with remind_every_h, a "reminder"
 * every that many hours while it lasts); when the village has been well for
 * recover_s, one "up" alert follows for every hook that got the "down", and the episode ends.
 * Flaps shorter than recover_s stay in one episode. All of it is in the store, so a restart
 * (or a second collector on the same store) continues the same episodes with the same ids.
 */
export class AlertWatch {
  private readonly d: AlertWatchDeps;
  /** Ids known to be queued already: no insert attempt per check per village. */
  private readonly known = new Set<string>();
  /** The reminder ids among them, per village, forgotten with its episode. */
  private readonly reminders = new Map<string, string[]>();
  /** The last quarantine row looked at for security alerts (a day back at start). */
  private quarantineAfter = 0;

  constructor(deps: AlertWatchDeps) {
    this.d = deps;
  }

  async check(): Promise<number> {
    const now = this.d.clock.wallMs();
    const episodes = await this.d.repo.episodes();
    const receiving = this.d.receiving?.() ?? true;
    let queued = 0;
    const fleet = await this.d.fleet();
    for (const v of fleet) {
      const ep = episodes.get(v.code);
      // Deaf, the collector cannot tell a silent village from its own silence: leave it be.
      if (v.state === 'silent' && !receiving) continue;
      // Revoked on purpose: its silence (its messages are quarantined) is not an outage to page for.
      if (v.revoked !== null) continue;
      if (BAD_STATES.has(v.state)) queued += await this.bad(v, ep, now);
      else if (ep) queued += await this.good(v, ep, now);
    }
    queued += await this.security(fleet, now);
    if (queued > 0) this.d.queued();
    return queued;
  }

  /**
   * Someone spoke for a village it is not (`gw_mismatch`: the ACL let a box publish on its own
   * topics with another village's code inside), or a revoked box still talks: a security alert,
   * not an outage. One per hook, sending village, reason and WIB day however many messages,
   * dated by the first; after a restart the last day is looked at again (ids dedupe).
   */
  private async security(fleet: FleetVillage[], now: number): Promise<number> {
    if (this.d.hooks.length === 0) return 0;
    const rows = await this.d.repo.securityQuarantine(this.quarantineAfter, now - DAY_MS, 500);
    if (rows.length === 0) return 0;
    const byCode = new Map(fleet.map((v) => [v.code, v]));
    let n = 0;
    for (const r of rows) {
      this.quarantineAfter = r.id;
      const code = /(?:^|\/)(\d{10})(?:\/|$)/.exec(r.topic)?.[1];
      if (!code) continue;
      const v = byCode.get(code) ?? { code, name: null, kecamatan: null, isp: null, known: false };
      const ep: Episode = {
        gw: code,
        started_ms: r.at_ms,
        state: r.reason,
        fault_layer: null,
        good_since_ms: null,
      };
      const dayMs = Math.floor((r.at_ms + WIB_OFFSET_MS) / DAY_MS) * DAY_MS - WIB_OFFSET_MS;
      for (const hook of this.d.hooks) if (await this.queue(hook, v, ep, 'security', now, dayMs)) n++;
    }
    return n;
  }

  private async bad(v: FleetVillage, found: Episode | undefined, now: number): Promise<number> {
    let ep = found;
    if (!ep) {
      ep = await this.d.repo.openEpisode({
        gw: v.code,
        started_ms: startOf(v, now),
        state: v.state,
        fault_layer: v.state === 'down' ? v.fault_layer : null,
        good_since_ms: null,
      });
      this.d.log.info({ gw: v.code, state: v.state, fault_layer: ep.fault_layer }, 'village episode opened');
    } else if (ep.good_since_ms !== null) {
      await this.d.repo.setGoodSince(v.code, null);
    }
    let n = 0;
    const lasted = now - ep.started_ms;
    for (const hook of this.d.hooks) {
      if (lasted < hook.minDownMs) continue;
      if (await this.queue(hook, v, ep, 'down', now)) n++;
      // Only the latest reminder due: a collector stopped for hours sends one, not a burst.
      const nth = hook.remindMs > 0 ? Math.floor((lasted - hook.minDownMs) / hook.remindMs) : 0;
      if (nth >= 1 && (await this.queue(hook, v, ep, 'reminder', now, ep.started_ms, nth))) n++;
    }
    return n;
  }

  private async good(v: FleetVillage, ep: Episode, now: number): Promise<number> {
    if (ep.good_since_ms === null) {
      await this.d.repo.setGoodSince(v.code, now);
      if (this.d.config.alerts.recover_s > 0) return 0;
      ep.good_since_ms = now;
    }
    if (now - ep.good_since_ms < this.d.config.alerts.recover_s * 1000) return 0;
    let n = 0;
    for (const hook of this.d.hooks) {
      const downId = alertId(hook.key, v.code, ep.started_ms, 'down');
      if (
        (this.known.has(downId) || (await this.d.repo.has(downId))) &&
        (await this.queue(hook, v, ep, 'up', now))
      )
        n++;
    }
    await this.d.repo.closeEpisode(v.code, ep.started_ms);
    for (const hook of this.d.hooks)
      for (const k of ['down', 'up'] as const) this.known.delete(alertId(hook.key, v.code, ep.started_ms, k));
    for (const id of this.reminders.get(v.code) ?? []) this.known.delete(id);
    this.reminders.delete(v.code);
    this.d.log.info(
      { gw: v.code, duration_s: Math.round((ep.good_since_ms - ep.started_ms) / 1000) },
      'village episode ended',
    );
    return n;
  }

  private async queue(
    hook: Hook,
    v: Pick<FleetVillage, 'code' | 'name' | 'kecamatan' | 'isp' | 'known'>,
    ep: Episode,
    kind: AlertKind,
    now: number,
    /** What the id is derived from, when not the episode's start (security: the WIB day). */
    idMs = ep.started_ms,
    /** Which reminder of the episode (kind reminder). */
    nth = 0,
  ): Promise<boolean> {
    const id = alertId(hook.key, v.code, idMs, kind, nth);
    if (this.known.has(id)) return false;
    const endedMs = kind === 'up' ? ep.good_since_ms : null;
    const facts = {
      code: v.code,
      name: v.name,
      kecamatan: v.kecamatan,
      isp: v.isp,
      state: ep.state,
      fault_layer: ep.fault_layer,
      sinceMs: ep.started_ms,
      endedMs,
      ...(kind === 'reminder' ? { lastedMs: now - ep.started_ms } : {}),
      regency: this.d.config.regency.name,
    };
    const own = kind === 'security' ? undefined : this.d.config.alerts.templates[kind];
    const template = own ?? DEFAULT_TEMPLATES[hook.language][kind];
    const body = {
      id,
      kind,
      village: { code: v.code, name: v.name, kecamatan: v.kecamatan, isp: v.isp, known: v.known },
      state: ep.state,
      fault_layer: ep.fault_layer,
      since: new Date(ep.started_ms).toISOString(),
      ended: endedMs === null ? null : new Date(endedMs).toISOString(),
      duration_s:
        endedMs !== null
          ? Math.round((endedMs - ep.started_ms) / 1000)
          : kind === 'reminder'
            ? Math.round((now - ep.started_ms) / 1000)
            : null,
      ...(kind === 'reminder' ? { reminder: nth } : {}),
      text: render(template, facts, hook.language),
    };
    const added = await this.d.repo.enqueue({
      id,
      hook: hook.key,
      gw: v.code,
      kind,
      episode_ms: idMs,
      body: JSON.stringify(body),
      created_ms: now,
      next_ms: now,
    });
    this.known.add(id);
    if (kind === 'reminder') this.reminders.set(v.code, [...(this.reminders.get(v.code) ?? []), id]);
    if (added) this.d.log.info({ alert: id, gw: v.code, kind, hook: hook.index }, 'alert queued');
    return added;
  }
}

/**
 * When the episode began: the link's own `since` for a down link (when the gateway's clock
 * is believable), the last live message for a silent village, else now.
 */
function startOf(v: FleetVillage, now: number): number {
  const at =
    v.state === 'down' && v.since
      ? Date.parse(v.since)
      : v.state === 'silent' && v.last_seen
        ? Date.parse(v.last_seen)
        : now;
  return Number.isFinite(at) && at <= now && now - at < MAX_SINCE_AGE_MS ? at : now;
}
