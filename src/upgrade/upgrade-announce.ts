import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../core/logger.js';
import type { ReplyAddress } from '../modules/operations.js';
import { writeDurable } from './durable-fs.js';
import { RESULT_FILE, readResult, replyAddress, upgradesDir } from './remote-request.js';

/** Which result.json was announced last (its `at` and id): one event and one reply per outcome. */
const MARKER_FILE = 'announced';

export interface AnnounceDeps {
  dataDir: string;
  log: Logger;
  /** Stores an `event` message in the durable outbox. */
  event(payload: { code: string; severity: 'info' | 'warning'; message: string; details: object }): void;
  /** Publishes a reply now (false while disconnected). */
  reply(to: ReplyAddress, body: Record<string, unknown>): boolean;
}

/** The last reply to an `upgrade` command: its outcome, ok only when the new version stands. */
export function finalReply(r: Record<string, unknown>): Record<string, unknown> {
  const outcome = String(r.outcome ?? 'unknown');
  if (outcome === 'upgraded' || outcome === 'unchanged')
    return {
      ok: true,
      result: { state: 'done', outcome, from: r.from ?? null, to: r.to ?? null, version: r.version ?? null },
    };
  const why = typeof r.reason === 'string' ? r.reason : 'no reason given';
  const restored = r.restored === true ? '; database restored from the snapshot' : '';
  return { ok: false, error: { code: 'failed', message: `${outcome}: ${why}${restored}`.slice(0, 512) } };
}

function finishedEvent(r: Record<string, unknown>) {
  const outcome = String(r.outcome ?? 'unknown');
  const ok = outcome === 'upgraded' || outcome === 'unchanged';
  const details: Record<string, unknown> = { outcome };
  for (const k of ['id', 'from', 'to', 'version', 'restored', 'old_healthy', 'bundle', 'reason'] as const) {
    const v = r[k === 'old_healthy' ? 'oldHealthy' : k];
    if (v !== undefined && v !== null) details[k] = typeof v === 'string' ? v.slice(0, 512) : v;
  }
  const message = ok
    ? `upgrade ${outcome}${r.version ? `: ${String(r.version)}` : ''}`
    : `upgrade ${outcome}${typeof r.reason === 'string' ? `: ${r.reason.slice(0, 200)}` : ''}`;
  return {
    code: 'upgrade_finished',
    severity: ok ? ('info' as const) : ('warning' as const),
    message,
    details,
  };
}

/**
 * Publishes the outcome of an upgrade the regency asked for, once: an `event` (through the
 * outbox, so it survives outages and restarts) and, when the request left its reply address,
 * the command's last reply on that topic with its correlation data. The outcome is written by
 * the root upgrader (upgrades/result.json) while this daemon was stopped, so it is the daemon
 * that runs afterwards — the new version, or the old one after a rollback — that announces it.
 */
export class UpgradeAnnouncer {
  private readonly d: AnnounceDeps;
  private owed: { to: ReplyAddress; body: Record<string, unknown> } | undefined;
  private seen: number | undefined;

  constructor(d: AnnounceDeps) {
    this.d = d;
  }

  /**
   * Announces result.json when it changed since the last look (a stat, no read, no write). The
   * root upgrader writes it only once the new version has answered /healthz, i.e. after this
   * daemon started: so it is looked at again every few seconds, not only at start.
   */
  check(): void {
    let mtime: number | undefined;
    try {
      mtime = statSync(join(upgradesDir(this.d.dataDir), RESULT_FILE)).mtimeMs;
    } catch {
      mtime = undefined;
    }
    if (mtime === undefined || mtime === this.seen) return;
    this.seen = mtime;
    this.announceLast();
  }

  /** At start, and after this daemon's own download failed: announces result.json if new. */
  announceLast(): void {
    const r = readResult(this.d.dataDir);
    if (!r) return;
    const stamp = `${String(r.at ?? '')} ${String(r.id ?? '')}\n`;
    const marker = join(upgradesDir(this.d.dataDir), MARKER_FILE);
    try {
      if (readFileSync(marker, 'utf8') === stamp) return;
    } catch {
      // never announced
    }
    try {
      // Marked first: a marker that cannot be written must not repeat the event at every start.
      writeDurable(marker, stamp, 0o640);
    } catch (err) {
      this.d.log.warn({ err }, 'upgrade: the outcome cannot be marked as announced; not announced');
      return;
    }
    this.d.event(finishedEvent(r));
    const to = replyAddress(r.reply);
    if (to) {
      this.owed = { to, body: finalReply(r) };
      this.flush();
    }
    this.d.log.info({ outcome: r.outcome, version: r.version }, 'upgrade: outcome announced');
  }

  /** Publishes the owed reply if the broker is connected (called again at every connection). */
  flush(): void {
    if (this.owed && this.d.reply(this.owed.to, this.owed.body)) this.owed = undefined;
  }
}
