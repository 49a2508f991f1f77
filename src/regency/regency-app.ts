import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { Scheduler } from '../core/scheduler.js';
import { Lifecycle, type Service } from '../core/service.js';
import { buildServer } from '../web/build-server.js';
import { HttpService } from '../web/http-service.js';
import { AlertRepo } from './alerts/alert-repo.js';
import { AlertService } from './alerts/alert-service.js';
import { RegencyAuth } from './auth/regency-auth.js';
import { LoginThrottle } from './auth/throttle.js';
import { Collector, type CollectorDeps } from './collector.js';
import { CommandClient } from './commands/command-client.js';
import { commandRoutes } from './commands/command-routes.js';
import type { RegencyConfig } from './config-schema.js';
import { MonotonicSilence, readFleet } from './fleet.js';
import { fleetRoutes } from './fleet-routes.js';
import { incidentRoutes } from './incidents/incident-routes.js';
import { IngestQueue } from './ingest-queue.js';
import { BundleCodes } from './provision/bundle-codes.js';
import { BUNDLE_CODE_POLICY, bundleRoutes } from './provision/bundle-routes.js';
import { CredentialsRepo } from './provision/credentials-repo.js';
import { GraceSweeper } from './provision/grace-sweeper.js';
import { Provisioner, provisionOutDir } from './provision/provisioner.js';
import { RegencyMetrics } from './regency-metrics.js';
import { GapRepair } from './repair/gap-repair.js';
import { reportRoutes } from './reports/report-routes.js';
import { Retention } from './retention.js';
import { readRegencyStatus } from './status.js';
import { AuditRepo } from './store/audit-repo.js';
import { IncidentRepo } from './store/incident-repo.js';
import { IngestRepo } from './store/ingest-repo.js';
import { type OpenedDb, openRegencyDb } from './store/open-db.js';
import { ReadRepo } from './store/read-repo.js';
import { RepairRepo } from './store/repair-repo.js';
import { ReportRepo } from './store/report-repo.js';
import { RetentionRepo } from './store/retention-repo.js';
import { VillageRegistry } from './villages.js';
import { fleetPage } from './web/page.js';
import { villageRoutes } from './web/village-routes.js';

export interface RegencyAppDeps {
  config: RegencyConfig;
  log: Logger;
  clock: Clock;
  /** Shows the one-time setup code to a person at a terminal (never in the JSON log). */
  showSetupCode?(code: string, file: string): void;
  /** Where the built fleet page is (tests); default dist/regency/static. */
  staticDir?: string;
  /** Tests only: the collector loses these messages before commit (see CollectorDeps). */
  dropBeforeCommit?: CollectorDeps['dropBeforeCommit'];
}

/**
 * The regency's composition root: store → ingest queue → collector, and the HTTP side
 * (health, metrics, fleet API) reading the same store. Started in that order, stopped in
 * reverse, each step time-boxed (core/service Lifecycle).
 */
export class RegencyApp {
  readonly deps: RegencyAppDeps;
  readonly registry: VillageRegistry;
  private readonly scheduler: Scheduler;
  private readonly silence: MonotonicSilence;
  private opened: OpenedDb | undefined;
  private lifecycle: Lifecycle | undefined;
  private dbOk = false;
  http: HttpService | undefined;
  collector: Collector | undefined;

  constructor(deps: RegencyAppDeps) {
    this.deps = deps;
    this.registry = VillageRegistry.load(deps.config.regency.villages_file);
    this.scheduler = new Scheduler({ clock: deps.clock, log: deps.log.child({ component: 'scheduler' }) });
    this.silence = new MonotonicSilence({ clock: deps.clock, silentAfterS: deps.config.silent_after_s });
  }

  get where(): string {
    return this.opened?.where ?? '';
  }

  async start(): Promise<void> {
    const { config, log, clock } = this.deps;
    const opened = await openRegencyDb(config, log.child({ component: 'store' }));
    this.opened = opened;
    this.dbOk = true;
    const read = new ReadRepo({ db: opened.db });
    const ingest = new IngestRepo({
      db: opened.db,
      dialect: opened.dialect,
      repairAfterMs: config.completeness.repair_after_s * 1000,
    });
    this.silence.begin(await read.villages());
    const ping = async () => {
      try {
        await sql`SELECT 1`.execute(opened.db);
        this.dbOk = true;
      } catch {
        this.dbOk = false;
      }
      return this.dbOk;
    };
    const storeLog = log.child({ component: 'ingest' });
    const queue = new IngestQueue({
      commit: (batch) => ingest.commit(batch),
      onCommitted: (r, size) => {
        this.dbOk = true;
        this.collector?.revoked(r.revoked);
        if (r.quarantined > 0 || r.gapsOpened > 0)
          storeLog.info({ size, quarantined: r.quarantined, gapsOpened: r.gapsOpened }, 'batch committed');
      },
      ping,
      log: storeLog,
      after: (ms, fn) => this.scheduler.after('ingest-retry', ms, fn),
    });
    const status = () => readRegencyStatus(read, this.registry, this.silence);
    const alertRepo = new AlertRepo({ db: opened.db });
    const metrics = config.http.metrics
      ? new RegencyMetrics({ read: status, alerts: () => alertRepo.counts() })
      : undefined;
    const alerts = new AlertService({
      config,
      repo: alertRepo,
      clock,
      log: log.child({ component: 'alerts' }),
      scheduler: this.scheduler,
      fleet: () => readFleet(read, this.registry, this.silence),
      // Connected for at least one silence period: whatever the broker held has arrived.
      receiving: () => (this.collector?.connectedForMs() ?? -1) >= config.silent_after_s * 1000,
    });
    const commands = new CommandClient({
      config: config.mqtt,
      log: log.child({ component: 'commands' }),
      scheduler: this.scheduler,
    });
    const audit = new AuditRepo({ db: opened.db });
    const repair = new GapRepair({
      repo: new RepairRepo({ db: opened.db, dialect: opened.dialect }),
      client: commands,
      audit,
      clock,
      scheduler: this.scheduler,
      log: log.child({ component: 'gap-repair' }),
      repairAfterMs: config.completeness.repair_after_s * 1000,
      timeoutMs: config.commands.timeout_s * 1000,
    });
    const auth = new RegencyAuth({
      db: opened.db,
      clock,
      log: log.child({ component: 'auth' }),
      scheduler: this.scheduler,
      dataDir: config.data_dir,
      ...(this.deps.showSetupCode ? { showSetupCode: this.deps.showSetupCode } : {}),
    });
    // The fleet page's API: every part here sits behind the account guard.
    const accountRoutes = [
      fleetRoutes({ fleet: () => readFleet(read, this.registry, this.silence) }),
      villageRoutes({ db: opened.db, registry: this.registry, silence: this.silence, clock }),
      reportRoutes({
        repo: new ReportRepo({ db: opened.db }),
        registry: this.registry,
        wallMs: () => clock.wallMs(),
        policy: { sla: config.sla, maintenance: config.maintenance },
      }),
      incidentRoutes({
        repo: new IncidentRepo({ db: opened.db, dialect: opened.dialect }),
        registry: this.registry,
        wallMs: () => clock.wallMs(),
        gapMs: config.silent_after_s * 1000,
        policy: { sla: config.sla, maintenance: config.maintenance },
      }),
      commandRoutes({
        client: commands,
        audit,
        registry: this.registry,
        timeoutMs: config.commands.timeout_s * 1000,
        wallMs: () => clock.wallMs(),
        // The guard has set the account by the time a command route runs.
        actor: (request) => request.account?.name ?? 'anonymous',
      }),
    ];
    const tls = config.http.tls;
    const app = buildServer({
      log: log.child({ component: 'http' }),
      dbOk: () => this.dbOk,
      ...(metrics ? { metrics } : {}),
      // The CA goes out with the certificate: a box pinning its fingerprint finds it in the chain.
      ...(tls
        ? {
            https: {
              cert: Buffer.concat([
                readFileSync(tls.cert_file),
                ...(tls.ca_file ? [readFileSync(tls.ca_file)] : []),
              ]),
              key: readFileSync(tls.key_file),
            },
          }
        : {}),
      publicRoutes: [
        bundleRoutes({
          codes: new BundleCodes({ db: opened.db }),
          throttle: new LoginThrottle({ db: opened.db, clock, policy: BUNDLE_CODE_POLICY }),
          clock,
          log: log.child({ component: 'provision' }),
        }),
        fleetPage({
          auth,
          regencyName: config.regency.name,
          accountRoutes,
          ...(this.deps.staticDir ? { staticDir: this.deps.staticDir } : {}),
        }),
      ],
    });
    this.http = new HttpService({ app, listen: config.http.listen, log: log.child({ component: 'http' }) });
    this.collector = new Collector({
      config,
      clock,
      log: log.child({ component: 'collector' }),
      queue,
      onSeen: (gw, mono) => this.silence.heard(gw, mono),
      revoked: await new CredentialsRepo({ db: opened.db }).revokedCodes(),
      ...(this.deps.dropBeforeCommit ? { dropBeforeCommit: this.deps.dropBeforeCommit } : {}),
    });
    const dbWatch: Service = {
      name: 'db-watch',
      start: () => {
        this.scheduler.every({ name: 'db-ping', intervalMs: 10_000, coarse: true, run: () => void ping() });
      },
      stop: () => this.scheduler.stop(),
    };
    const services: Service[] = [
      dbWatch,
      auth,
      ...(metrics ? [metrics] : []),
      commands,
      this.http,
      this.collector,
      repair,
      alerts,
      new GraceSweeper({
        provisioner: new Provisioner({
          config,
          registry: this.registry,
          credentials: new CredentialsRepo({ db: opened.db }),
          wallMs: () => clock.wallMs(),
          source: 'regency',
        }),
        out: provisionOutDir(config, undefined),
        scheduler: this.scheduler,
        log: log.child({ component: 'provision' }),
      }),
      new Retention({
        config,
        repo: new RetentionRepo({ db: opened.db }),
        clock,
        log: log.child({ component: 'retention' }),
        scheduler: this.scheduler,
      }),
    ];
    this.lifecycle = new Lifecycle(services, { log });
    await this.lifecycle.start();
    log.info({ store: opened.where, villages: this.registry.size }, 'regency collector started');
  }

  async stop(): Promise<string[]> {
    const failed = (await this.lifecycle?.stop()) ?? [];
    await this.opened?.db.destroy().catch((err) => {
      this.deps.log.warn({ err }, 'store close failed');
      failed.push('store');
    });
    this.opened = undefined;
    return failed;
  }
}
