import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { GwError } from '../../core/errors.js';
import type { RegencyConfig } from '../config-schema.js';
import type { VillageRegistry } from '../villages.js';
import { hashBrokerPassword, newBrokerPassword, verifyBrokerPassword } from './broker-hash.js';
import { reloadBroker, writeBrokerFiles } from './broker-output.js';
import { type ClientCa, ensureClientCa, issueClientCert } from './client-ca.js';
import { type CredentialsRepo, isActive } from './credentials-repo.js';
import { withOutLock } from './out-lock.js';
import { PUBLIC_MODE, SECRET_MODE, secureDir, writeFileAtomic } from './secure-write.js';
import { bundleDir, promoteBundle, recoverBundles, stagedBundleDir, writeBundle } from './village-bundle.js';

export const DEFAULT_COLLECTOR_USERNAME = 'regency-collector';
/** Where the collector's secret goes when the config names none (SPEC's example path). */
const DEFAULT_COLLECTOR_SECRET = '/etc/kampung-gateway/regency-mqtt.secret';
/** In the output folder while the broker has not taken the files written last (see publish). */
export const RELOAD_PENDING = 'reload-pending';

export interface ProvisionDeps {
  config: RegencyConfig;
  registry: VillageRegistry;
  credentials: CredentialsRepo;
  wallMs: () => number;
  /** Who acts, for the audit: `cli` or `regency` (the sweeper in `regency run`). */
  source?: string;
}

/** What the broker was told: reloaded by provision.broker_reload, or it is the operator's to do. */
export type Reload = 'reloaded' | 'unchanged' | 'manual';

export interface ProvisionResult {
  out: string;
  villages: Array<{
    code: string;
    action: 'created' | 'rotated';
    username: string;
    bundle: string;
    /** ISO time the old identity stops at the latest; null when nothing old stays valid. */
    grace_until: string | null;
  }>;
  /** created: a new secret in collector/mqtt.secret; adopted: the one mqtt.password_file names; kept. */
  collector: 'created' | 'adopted' | 'kept';
  tls: boolean;
  reload: Reload;
}

/** Where the broker files and bundles go: --out, else provision.out_dir, else data_dir/provision. */
export function provisionOutDir(config: RegencyConfig, flag: string | undefined): string {
  return flag ?? config.provision.out_dir ?? join(config.data_dir, 'provision');
}

/**
 * `regency provision`, `confirm` and `revoke`, and the end of a rotation's grace. The store
 * decides, the files follow: a new bundle is staged, the store commits its hash, the bundle
 * takes its place, and the broker files are written again from the store — so a kill at any
 * point leaves a valid identity in every bundle, and the next run (or `regency run` at start)
 * finishes what was cut off.
 */
export class Provisioner {
  private readonly d: ProvisionDeps;
  /** One change at a time in this process: each writes the broker files from what it read. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(deps: ProvisionDeps) {
    this.d = deps;
  }

  /**
   * One change at a time: queued in this process, and holding the output folder's lock
   * (out-lock.ts) against other processes, so no run's recovery drops another's staged bundle
   * and none writes the broker files from a stale read.
   */
  private exclusive<T>(out: string, fn: () => Promise<T>): Promise<T> {
    const locked = () => {
      secureDir(out);
      return withOutLock(out, fn);
    };
    const run = this.tail.then(locked, locked);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private get source(): string {
    return this.d.source ?? 'cli';
  }

  provision(codes: readonly string[], out: string, o: { cert?: boolean } = {}): Promise<ProvisionResult> {
    return this.exclusive(out, () => this.provisionNow(codes, out, o));
  }

  private async provisionNow(
    codes: readonly string[],
    out: string,
    o: { cert?: boolean },
  ): Promise<ProvisionResult> {
    const unknown = codes.filter((c) => this.d.registry.get(c) === undefined);
    if (unknown.length > 0)
      throw new GwError('GW_ERR_VALIDATION', `not in the villages registry: ${unknown.join(', ')}`);
    secureDir(out);
    await this.recover(out);
    const collector = await this.ensureCollector(out);
    const villages: ProvisionResult['villages'] = [];
    const ca = o.cert ? await ensureClientCa(out, this.configuredCa) : undefined;
    const graceMs = this.d.config.provision.rotation_grace_s * 1000;
    for (const code of [...new Set(codes)]) {
      const password = newBrokerPassword();
      // Read again in issue()'s transaction: a name taken meanwhile fails there (GW_ERR_CONFLICT).
      const username = await this.d.credentials.nextUsername(code);
      const cert = ca ? await issueClientCert(ca, username) : undefined;
      writeBundle(stagedBundleDir(out, code), {
        code,
        name: this.d.registry.get(code)?.name ?? '',
        url: cert ? (this.d.config.provision.cert_url ?? this.gatewayUrl) : this.gatewayUrl,
        username,
        password,
        topicPrefix: this.d.config.mqtt.topic_prefix,
        ...(this.caPem ? { caPem: this.caPem } : {}),
        ...(cert ? { cert } : {}),
      });
      const now = this.d.wallMs();
      const r = await this.d.credentials.issue(
        code,
        {
          username,
          hash: hashBrokerPassword(password),
          ...(cert ? { cert: { serial: cert.serial, notAfterMs: cert.notAfterMs } } : {}),
        },
        now,
        graceMs > 0 ? now + graceMs : null,
        this.source,
      );
      villages.push({
        code,
        action: r.action,
        username,
        bundle: promoteBundle(out, code),
        grace_until: r.graceUntilMs === null ? null : new Date(r.graceUntilMs).toISOString(),
      });
    }
    const reload = await this.publish(out);
    return { out, villages, collector, tls: this.tls, reload };
  }

  /**
   * The box uses its new identity (`regency confirm`, or the box's own birth naming it: `by`
   * the box, `username` the identity it named): the old one is retired now.
   */
  confirm(
    code: string,
    out: string,
    o: { username?: string; by?: string } = {},
  ): Promise<{ username: string; retired: string[]; reload: Reload }> {
    return this.exclusive(out, async () => {
      await this.recover(out);
      const r = await this.d.credentials.finishRotation(
        code,
        this.d.wallMs(),
        'confirmed',
        o.by ?? this.source,
        o.username,
      );
      if (!r)
        throw new GwError(
          'GW_ERR_NOTHING_PENDING',
          `village ${code} has no rotation${o.username ? ` of ${o.username}` : ''} awaiting confirmation`,
        );
      return { ...r, reload: await this.publish(out) };
    });
  }

  /**
   * Every rotation whose grace is over ends as if confirmed: the old identity is retired. A
   * reload still owed (reload-pending) is tried again here too.
   */
  async endGraces(out: string): Promise<{ codes: string[]; reload: Reload }> {
    const owed = () => existsSync(join(out, RELOAD_PENDING));
    if (!owed() && (await this.d.credentials.graceOver(this.d.wallMs())).length === 0)
      return { codes: [], reload: 'unchanged' };
    return this.exclusive(out, async () => {
      const now = this.d.wallMs();
      const codes: string[] = [];
      for (const code of await this.d.credentials.graceOver(now))
        if (await this.d.credentials.finishRotation(code, now, 'expired', this.source)) codes.push(code);
      return { codes, reload: codes.length > 0 || owed() ? await this.publish(out) : 'unchanged' };
    });
  }

  /**
   * Finishes what a kill cut off: staged bundles the store holds are promoted, others
   * dropped; the broker files are made to match the store. For `regency run` at start.
   */
  async reconcile(out: string): Promise<Reload> {
    if ((await this.d.credentials.all()).length === 0) return 'unchanged';
    return this.exclusive(out, async () => {
      if ((await this.d.credentials.all()).length === 0) return 'unchanged';
      await this.recover(out);
      return this.publish(out);
    });
  }

  /** `regency revoke`: the village's identities are refused from the next broker reload on. */
  revoke(code: string, out: string): Promise<Reload> {
    return this.exclusive(out, async () => {
      if (!(await this.d.credentials.revoke(code, this.d.wallMs(), this.source)))
        throw new GwError('GW_ERR_NOT_FOUND', `village ${code} was never provisioned`);
      rmSync(bundleDir(out, code), { recursive: true, force: true });
      rmSync(stagedBundleDir(out, code), { recursive: true, force: true });
      secureDir(out);
      return this.publish(out);
    });
  }

  private async recover(out: string): Promise<void> {
    const live = (await this.d.credentials.all()).filter(isActive);
    recoverBundles(out, (username, secret) =>
      live.some((c) => c.username === username && verifyBrokerPassword(secret, c)),
    );
  }

  /**
   * Broker files from the store; the broker reloaded when they changed and a command is set.
   * With a command, `reload-pending` is written before the files and removed only once the
   * broker took them: a reload that failed (or a kill before it) is tried again by the next
   * run, though the files on disk already match the store then.
   */
  private async publish(out: string): Promise<Reload> {
    secureDir(out);
    const argv = this.d.config.provision.broker_reload;
    const marker = join(out, RELOAD_PENDING);
    const owed = argv !== undefined && existsSync(marker);
    if (argv && !owed) writeFileAtomic(marker, `${new Date(this.d.wallMs()).toISOString()}\n`, PUBLIC_MODE);
    const changed = await writeBrokerFiles(
      out,
      this.d.config.mqtt.topic_prefix,
      this.d.credentials,
      this.configuredCa,
    );
    if (!argv) {
      // A reload owed from when a command was set is now the operator's (told as 'manual').
      const wasOwed = existsSync(marker);
      rmSync(marker, { force: true });
      return changed || wasOwed ? 'manual' : 'unchanged';
    }
    if (changed || owed) await reloadBroker(argv);
    rmSync(marker, { force: true });
    return changed || owed ? 'reloaded' : 'unchanged';
  }

  private get gatewayUrl(): string {
    return this.d.config.provision.gateway_url ?? this.d.config.mqtt.url;
  }

  private get tls(): boolean {
    return this.gatewayUrl.startsWith('mqtts://');
  }

  private get configuredCa(): ClientCa | undefined {
    const c = this.d.config.provision.client_ca;
    return c ? { certFile: c.cert_file, keyFile: c.key_file } : undefined;
  }

  private get caPem(): string | undefined {
    const file = this.d.config.provision.ca_file ?? this.d.config.mqtt.ca_file;
    return this.tls && file ? readFileSync(file, 'utf8') : undefined;
  }

  /**
   * The collector's identity is made once. A secret its config already names is adopted (the
   * running collector keeps working); else a new one goes to collector/mqtt.secret.
   */
  private async ensureCollector(out: string): Promise<ProvisionResult['collector']> {
    const m = this.d.config.mqtt;
    const username = m.username ?? DEFAULT_COLLECTOR_USERNAME;
    const existing = await this.d.credentials.get(username);
    const current = m.password_file && existsSync(m.password_file) ? readSecret(m.password_file) : undefined;
    let password: string | undefined;
    let outcome: ProvisionResult['collector'] = 'kept';
    if (!existing) {
      password = current ?? newBrokerPassword();
      outcome = current ? 'adopted' : 'created';
      await this.d.credentials.createCollector(username, hashBrokerPassword(password), this.d.wallMs());
    } else if (current !== undefined && verifyBrokerPassword(current, existing)) password = current;
    const dir = join(out, 'collector');
    secureDir(dir);
    if (password !== undefined) writeFileAtomic(join(dir, 'mqtt.secret'), `${password}\n`, SECRET_MODE);
    const block = {
      url: m.url,
      username,
      password_file: m.password_file ?? DEFAULT_COLLECTOR_SECRET,
      ...(m.ca_file ? { ca_file: m.ca_file } : {}),
      topic_prefix: m.topic_prefix,
      client_id: m.client_id,
    };
    writeFileAtomic(
      join(dir, 'mqtt.yaml'),
      `# the collector's mqtt block (regency.yaml); mqtt.secret goes to password_file\n${stringify(block)}`,
      PUBLIC_MODE,
    );
    return outcome;
  }
}

function readSecret(file: string): string {
  return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
}
