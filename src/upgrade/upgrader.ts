import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GwError } from '../core/errors.js';
import { DB_FILE } from '../store/store.js';
import { verifyBundle } from './bundle-verify.js';
import { fsyncDir, linkTarget, removeLink, swapLink, writeDurable } from './durable-fs.js';
import { getHealth, waitHealthy } from './health-wait.js';
import { type Journal, type Step, UpgradeDir } from './journal.js';
import { pruneReleases, releaseVersion } from './releases.js';
import type { Restarter } from './restarter.js';
import { restoreSnapshot, schemaOf, takeSnapshot } from './snapshot.js';

export interface UpgraderOptions {
  /** <root>/opt/kampung-gateway: releases/, current, previous, upgrade/. */
  appDir: string;
  configPath: string;
  dataDir: string;
  restarter: Restarter;
  /** http://127.0.0.1:<port>/healthz of the service. */
  healthUrl: string;
  healthTimeoutMs: number;
  /**
   * Extra time for the broker connection once the new version serves (the daemon's random
   * first-connect delay, mqtt.connect_delay_max_s, and one retry): a good upgrade is not rolled
   * back for waiting its turn to connect.
   */
  mqttGraceMs?: number;
  /** Releases kept after a commit (current and previous count). */
  keep: number;
  /** The pinned public key; default current/keys/release.pub. */
  pubkey?: string;
  /** Bundles checked for this architecture (default: this machine's). */
  arch?: string;
  say(message: string): void;
  /** Called around each journal write ("before:flipped", "after:flipped"): the crash tests' hook. */
  hook?(point: string): void;
}

export type Outcome = 'upgraded' | 'rolled-back' | 'unchanged' | 'aborted';

export interface UpgradeResult {
  outcome: Outcome;
  from?: string;
  to?: string;
  version?: string;
  /** The snapshot replaced the database (the new version had migrated it). */
  restored?: boolean;
  reason?: string;
  /** After a rollback: the old version answered /healthz again. */
  oldHealthy?: boolean;
  at: string;
}

/**
 * A/B upgrade of the installed releases, modelled on commit/rollback installers: verify,
 * snapshot, unpack beside the running release, flip `current` in one rename, restart, wait for
 * health, then commit or roll back. Every step is journalled (upgrade/journal.json, fsync'd)
 * after it is done and every action is idempotent, so a kill -9 or a power cut anywhere ends,
 * after `resume()`, on one of the two versions with its data.
 */
export class Upgrader {
  private readonly o: UpgraderOptions;
  readonly dir: UpgradeDir;

  constructor(o: UpgraderOptions) {
    this.o = o;
    this.dir = new UpgradeDir(o.appDir);
  }

  private get current(): string {
    return join(this.o.appDir, 'current');
  }
  private get previous(): string {
    return join(this.o.appDir, 'previous');
  }

  /** Runs fn holding the lock; waits up to waitMs for another upgrader to finish. */
  async locked<T>(fn: () => Promise<T>, waitMs = 0): Promise<T> {
    const deadline = Date.now() + waitMs;
    let release = this.dir.tryLock();
    while (!release && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      release = this.dir.tryLock();
    }
    if (!release) throw new GwError('GW_ERR_UPGRADE_BUSY', `another upgrade holds ${this.dir.lockPath}`);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Upgrades to the bundle; refuses while an interrupted upgrade waits for `resume()`. */
  upgrade(bundle: string, sha256?: string): Promise<UpgradeResult> {
    return this.locked(async () => {
      if (this.dir.read())
        throw new GwError(
          'GW_ERR_UPGRADE_BUSY',
          'an interrupted upgrade is pending: run `kampung-gw upgrade --resume`',
        );
      return this.run(bundle, sha256);
    });
  }

  /** Finishes an interrupted upgrade (forward, or back); `unchanged` when none is pending. */
  resume(waitMs = 0): Promise<UpgradeResult> {
    return this.locked(async () => {
      const j = this.dir.read();
      if (!j) return { outcome: 'unchanged', reason: 'no upgrade pending', at: now() };
      this.o.say(`resuming the upgrade to ${j.version} after step ${j.step}`);
      switch (j.step) {
        case 'verified':
        case 'snapshotted':
        case 'unpacked':
          return this.redoBeforeFlip(j);
        case 'flipped':
        case 'restarted':
          return this.afterFlip(j);
        case 'committed':
          return this.finish(j, { outcome: 'upgraded' });
        case 'rolling-back':
          return this.rollback(j, j.reason ?? 'interrupted rollback');
        case 'rolled-back':
          return this.finishRollback(j);
      }
    }, waitMs);
  }

  private mark(j: Journal, step: Step, extra: Partial<Journal> = {}): Journal {
    const next: Journal = { ...j, ...extra, step };
    this.o.hook?.(`before:${step}`);
    this.dir.write(next);
    this.o.hook?.(`after:${step}`);
    return next;
  }

  /** `wasConnected`: a resumed run's journal said so (the old version may be stopped by now). */
  private async run(
    bundle: string,
    sha256: string | undefined,
    wasConnected = false,
  ): Promise<UpgradeResult> {
    const from = linkTarget(this.current);
    if (!from || !existsSync(join(this.o.appDir, from)))
      throw new GwError('GW_ERR_UPGRADE_FAILED', `${this.current} names no installed release`);
    const pubkey = this.o.pubkey ?? join(this.current, 'keys', 'release.pub');
    if (!existsSync(pubkey))
      throw new GwError('GW_ERR_BUNDLE_REFUSED', `no pinned key (${pubkey}); give --pubkey FILE`);
    // Asked first, while the old version surely runs: was it connected to the regency's broker?
    const before = await getHealth(this.o.healthUrl, 2000);
    const mqttBefore = wasConnected || (before?.ok === true && before.mqtt === true);
    const stage = this.dir.stageDir;
    rmSync(stage, { recursive: true, force: true });
    mkdirSync(stage, { recursive: true, mode: 0o700 });
    let v: Awaited<ReturnType<typeof verifyBundle>>;
    try {
      v = await verifyBundle({
        bundle,
        workDir: stage,
        pubkey,
        ...(sha256 ? { sha256 } : {}),
        ...(this.o.arch ? { arch: this.o.arch } : {}),
      });
    } catch (err) {
      rmSync(stage, { recursive: true, force: true });
      throw err;
    }
    this.o.say(`bundle ${v.version} (commit ${v.commit}) verified`);
    const to = `releases/${v.version}`;
    if (to === from) {
      rmSync(stage, { recursive: true, force: true });
      return { outcome: 'unchanged', from, to, version: v.version, reason: 'already running', at: now() };
    }
    let j: Journal = {
      v: 1,
      step: 'verified',
      from,
      fromPrevious: linkTarget(this.previous) ?? null,
      to,
      version: v.version,
      bundle,
      ...(sha256 ? { sha256 } : {}),
      mqttBefore,
      startedAt: now(),
    };
    j = this.mark(j, 'verified');

    // The old version stops before the snapshot: whatever it acknowledged (kiosk pushes, outbox
    // seqs) is in the snapshot, so a rollback that restores it loses nothing and never hands
    // out a seq the regency already holds. It starts again if anything below fails.
    await this.o.restarter.stop();
    try {
      const snapshotSchema = takeSnapshot({
        dataDir: this.o.dataDir,
        configPath: this.o.configPath,
        snapDir: this.dir.snapshotDir,
      });
      this.o.say(`snapshot taken (schema ${snapshotSchema ?? 'none'})`);
      j = this.mark(j, 'snapshotted', { snapshotSchema });

      const rel = join(this.o.appDir, to);
      if (existsSync(join(rel, 'SHA256SUMS')) && readFileSync(join(rel, 'SHA256SUMS'), 'utf8') === v.sums) {
        this.o.say(`${to} already unpacked (same build)`);
      } else {
        rmSync(rel, { recursive: true, force: true });
        renameSync(v.dir, rel);
        fsyncDir(join(this.o.appDir, 'releases'));
      }
      rmSync(stage, { recursive: true, force: true });
      j = this.mark(j, 'unpacked');

      swapLink(this.previous, from);
      swapLink(this.current, to);
      this.o.say(`current -> ${to} (previous -> ${from})`);
      j = this.mark(j, 'flipped');
    } catch (err) {
      if (linkTarget(this.current) === from) await this.o.restarter.start();
      throw err;
    }
    return this.afterFlip(j);
  }

  /**
   * Before the flip was journalled nothing ran on the new release, but the links may have been
   * switched (a kill between the renames and the journal write): put them back as the journal
   * found them, then check the bundle again and go on.
   */
  private async redoBeforeFlip(j: Journal): Promise<UpgradeResult> {
    if (linkTarget(this.current) !== j.from) swapLink(this.current, j.from);
    if (j.fromPrevious) {
      if (linkTarget(this.previous) !== j.fromPrevious) swapLink(this.previous, j.fromPrevious);
    } else if (linkTarget(this.previous) !== undefined) removeLink(this.previous);
    if (existsSync(j.bundle)) return this.run(j.bundle, j.sha256, j.mqttBefore === true);
    if (j.to !== j.from && j.to !== j.fromPrevious)
      rmSync(join(this.o.appDir, j.to), { recursive: true, force: true });
    // The old version may have been stopped for the snapshot: it serves again.
    await this.o.restarter.start();
    return this.finish(j, { outcome: 'aborted', reason: `bundle ${j.bundle} is gone` });
  }

  private async afterFlip(j0: Journal): Promise<UpgradeResult> {
    let j = j0;
    await this.o.restarter.stop();
    await this.o.restarter.start();
    j = this.mark(j, 'restarted');
    const requireMqtt = j.mqttBefore === true;
    this.o.say(
      `restarted; waiting up to ${Math.round(this.o.healthTimeoutMs / 1000)} s for /healthz${
        requireMqtt ? ' and the MQTT connection (the old version was connected)' : ''
      }`,
    );
    const h = await waitHealthy({
      url: this.o.healthUrl,
      version: j.version,
      timeoutMs: this.o.healthTimeoutMs,
      requireMqtt,
      mqttTimeoutMs: this.o.healthTimeoutMs + (this.o.mqttGraceMs ?? 0),
    });
    if (h.healthy) {
      this.o.say(`healthy after ${(h.waitedMs / 1000).toFixed(1)} s`);
      j = this.mark(j, 'committed');
      return this.finish(j, { outcome: 'upgraded' });
    }
    const served = h.last?.ok === true && h.last.version === j.version;
    const why = served
      ? 'unhealthy: MQTT not connected (it was before the upgrade)'
      : h.last
        ? `unhealthy: /healthz ${h.last.status}${h.last.version ? ` from ${h.last.version}` : ''}`
        : 'unhealthy: /healthz never answered';
    return this.rollback(j, `${why} within ${Math.round(this.o.healthTimeoutMs / 1000)} s`);
  }

  private async rollback(j0: Journal, reason: string): Promise<UpgradeResult> {
    let j = j0;
    this.o.say(`rolling back to ${j.from}: ${reason}`);
    await this.o.restarter.stop();
    if (j.step !== 'rolling-back') {
      // Decided once, with the new version stopped, and journalled before anything changes.
      const live = schemaOf(join(this.o.dataDir, DB_FILE));
      const restore =
        j.snapshotSchema !== undefined && j.snapshotSchema !== null && live !== j.snapshotSchema;
      j = this.mark(j, 'rolling-back', { restore, reason });
    }
    swapLink(this.current, j.from);
    if (j.fromPrevious) swapLink(this.previous, j.fromPrevious);
    else removeLink(this.previous);
    if (j.restore) {
      restoreSnapshot({
        dataDir: this.o.dataDir,
        configPath: this.o.configPath,
        snapDir: this.dir.snapshotDir,
      });
      this.o.say(`database restored from the snapshot (schema ${j.snapshotSchema})`);
    }
    await this.o.restarter.start();
    const oldVersion = releaseVersion(this.o.appDir, j.from);
    // The old version ran here before: give it at least a minute (a loaded Pi Zero starts slowly).
    const h = await waitHealthy({
      url: this.o.healthUrl,
      version: oldVersion,
      timeoutMs: Math.max(this.o.healthTimeoutMs, 60_000),
    });
    this.o.say(h.healthy ? `${oldVersion} is serving again` : `${oldVersion} did not answer /healthz either`);
    j = this.mark(j, 'rolled-back', { oldHealthy: h.healthy });
    return this.finishRollback(j);
  }

  private finishRollback(j: Journal): UpgradeResult {
    return this.finish(j, {
      outcome: 'rolled-back',
      restored: j.restore === true,
      ...(j.reason ? { reason: j.reason } : {}),
      ...(j.oldHealthy !== undefined ? { oldHealthy: j.oldHealthy } : {}),
    });
  }

  /** Clean-up after the outcome is certain: prune, drop the snapshot, keep a result, end the journal. */
  private finish(j: Journal, r: Omit<UpgradeResult, 'at' | 'from' | 'to' | 'version'>): UpgradeResult {
    if (r.outcome === 'rolled-back' && j.to !== j.from && j.to !== j.fromPrevious)
      rmSync(join(this.o.appDir, j.to), { recursive: true, force: true });
    const removed = pruneReleases(this.o.appDir, this.o.keep);
    if (removed.length > 0) this.o.say(`removed old releases: ${removed.join(', ')}`);
    rmSync(this.dir.stageDir, { recursive: true, force: true });
    rmSync(this.dir.snapshotDir, { recursive: true, force: true });
    const result: UpgradeResult = { ...r, from: j.from, to: j.to, version: j.version, at: now() };
    writeDurable(this.dir.resultPath, `${JSON.stringify(result, null, 2)}\n`);
    this.dir.clear();
    return result;
  }
}

function now(): string {
  return new Date().toISOString();
}
