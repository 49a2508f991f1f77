import { readSecretFile } from '../../config/loader.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { RegencyConfig } from '../config-schema.js';
import type { AlertRepo, QueuedAlert } from './alert-repo.js';
import type { Hook } from './alert-watch.js';

/** Alerts of one hook sent in one POST at most (the rest go in the next). */
export const MAX_PER_POST = 50;
/** Pending alerts looked at per round. */
const SCAN = 1000;

export interface AlertSenderDeps {
  config: RegencyConfig;
  repo: AlertRepo;
  clock: Clock;
  log: Logger;
  hooks: readonly Hook[];
  random?: () => number;
  /** Tests may swap the HTTP client; default the platform fetch. */
  fetch?: typeof fetch;
}

/**
 * Delivers the queued alerts: per hook, what is due goes in one POST (JSON, `alerts: [...]`,
 * each with its id for the receiver to dedupe, and `text` for chat webhooks). A 2xx marks
 * them sent; anything else (refused, timeout, 4xx, 5xx) is retried with exponential backoff
 * and jitter, and given up (state failed, counted, logged) only after retry.give_up_h. A
 * village's alerts reach a hook in the order they were queued: a later one waits for the
 * earlier. Nothing of the URL but its host, and nothing of the secret, is logged.
 */
export class AlertSender {
  private readonly d: AlertSenderDeps;
  private readonly random: () => number;
  private readonly fetch: typeof fetch;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(deps: AlertSenderDeps) {
    this.d = deps;
    this.random = deps.random ?? Math.random;
    this.fetch = deps.fetch ?? fetch;
  }

  /** One round now, or one more after the current one. */
  kick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.round();
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async round(): Promise<void> {
    const now = this.d.clock.wallMs();
    const byHook = new Map<string, QueuedAlert[]>();
    const blocked = new Set<string>();
    for (const a of await this.d.repo.pending(SCAN)) {
      const order = `${a.hook}|${a.gw}`;
      if (blocked.has(order)) continue;
      blocked.add(order);
      if (a.next_ms > now) continue;
      const list = byHook.get(a.hook) ?? [];
      if (list.length < MAX_PER_POST) list.push(a);
      byHook.set(a.hook, list);
    }
    const leaseMs = this.d.config.alerts.retry.timeout_s * 1000 + 5000;
    await Promise.all(
      this.d.hooks.map(async (hook) => {
        const claimed: QueuedAlert[] = [];
        for (const a of byHook.get(hook.key) ?? [])
          if (await this.d.repo.claim(a.id, a.next_ms, now + leaseMs)) claimed.push(a);
        if (claimed.length > 0) await this.deliver(hook, claimed);
      }),
    );
  }

  private async deliver(hook: Hook, alerts: QueuedAlert[]): Promise<void> {
    const r = this.d.config.alerts.retry;
    const log = this.d.log;
    const items = alerts.map((a) => JSON.parse(a.body) as { text: string });
    const body = JSON.stringify({
      version: 1,
      source: 'kampung-regency',
      regency: this.d.config.regency.name,
      text: items.map((i) => i.text).join('\n'),
      alerts: items,
    });
    let error: string;
    try {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'kampung-regency',
      };
      if (hook.secretFile) headers.authorization = `Bearer ${readSecretFile(hook.secretFile)}`;
      const res = await this.fetch(hook.url, {
        method: 'POST',
        headers,
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(r.timeout_s * 1000),
      });
      // The answer's body is not needed: never read (or buffer) what a receiver sends back.
      await res.body?.cancel().catch(() => undefined);
      if (res.ok) {
        await this.d.repo.sent(
          alerts.map((a) => a.id),
          this.d.clock.wallMs(),
        );
        log.info(
          { hook: hook.index, host: hook.host, alerts: alerts.length, status: res.status },
          'alerts delivered',
        );
        return;
      }
      error = `HTTP ${res.status}`;
    } catch (err) {
      // Only the error's kind: a message could quote the URL (and a token in its path).
      const e = err as { name?: string; code?: string; cause?: { code?: string } };
      error = e.cause?.code ?? e.code ?? e.name ?? 'error';
    }
    const now = this.d.clock.wallMs();
    for (const a of alerts) {
      const attempts = a.attempts + 1;
      const failed = now - a.created_ms >= r.give_up_h * 3_600_000;
      const base = Math.min(r.max_s, r.initial_s * 2 ** Math.min(attempts - 1, 30)) * 1000;
      await this.d.repo.retry(
        a.id,
        attempts,
        now + Math.round(base * (0.8 + 0.4 * this.random())),
        error,
        failed,
      );
      if (failed)
        log.error({ alert: a.id, hook: hook.index, host: hook.host, attempts, error }, 'alert given up');
    }
    log.warn(
      { hook: hook.index, host: hook.host, alerts: alerts.length, attempts: alerts[0]?.attempts ?? 0, error },
      'alert delivery failed; will retry',
    );
  }
}
