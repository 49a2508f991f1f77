import type { Config } from '../config/schema.js';
import { defineModule } from '../modules/contract.js';
import { UpgradeAnnouncer } from '../upgrade/upgrade-announce.js';
import { upgradeCommand } from '../upgrade/upgrade-command.js';
import { getConfigOperation, logLevelOperation } from './builtin-commands.js';
import { remoteCommand } from './command-names.js';
import type { MqttConfig } from './config-schema.js';
import { ReportService } from './report-service.js';
import { resendOperation } from './resend-command.js';

export interface ReportSlice {
  mqtt: MqttConfig;
  gateway: Config['gateway'];
  logLevel: Config['log_level'];
  /** Only for `get-config`, which answers with the whole config, redacted. */
  whole: Config;
}

declare module '../modules/contract.js' {
  interface ModuleProvides {
    report: ReportService;
  }
}

/**
 * Regency reporting over MQTT: on only with an `mqtt` section. Listed before the producers, so
 * what they emit at start (an outage left open by a power cut) reaches the outbox.
 */
export const reportModule = defineModule({
  name: 'report',
  slice: (c): ReportSlice | undefined =>
    c.mqtt ? { mqtt: c.mqtt, gateway: c.gateway, logLevel: c.log_level, whole: c } : undefined,
  build: ({ config, deps, log }) => {
    const report = new ReportService({
      ...deps,
      mqtt: config.mqtt,
      gateway: config.gateway,
      log: log('report'),
    });
    const logLevel = logLevelOperation({
      configured: config.logLevel,
      rootLog: deps.log,
      scheduler: deps.scheduler,
    });
    const announcer = new UpgradeAnnouncer({
      dataDir: config.whole.data_dir,
      log: log('upgrade'),
      event: (payload) => report.enqueue('event', payload),
      reply: (to, body) => report.publishReply(to, body),
    });
    report.onConnected(() => announcer.flush());
    const upgrade = upgradeCommand({
      announcer,
      scheduler: deps.scheduler,
      dataDir: config.whole.data_dir,
      now: () => deps.clock.wallMs(),
      log: log('upgrade'),
      allowedHost: brokerHost(config.mqtt.url),
      backlogLeft: () => {
        const p = report.drainProgress();
        return p.draining ? Math.max(0, p.backlog_total - p.backlog_sent) : 0;
      },
    });
    return {
      provides: report,
      services: [report, logLevel.service, upgrade.service],
      status: [report],
      operations: [
        {
          name: remoteCommand('flush-outbox'),
          page: 'action',
          mqtt: true,
          description: 'send the regency backlog now, without pacing',
          run: async () => report.flushNow(),
        },
        getConfigOperation(config.whole),
        logLevel.operation,
        resendOperation({
          repo: report.repo,
          queue: (ids) => report.queueResend(ids),
          settle: () => report.flushAcks(),
        }),
        upgrade.operation,
      ],
    };
  },
});

/** The broker's host: the regency's own server, where bundle URLs must point. */
function brokerHost(url: string): string | undefined {
  try {
    return new URL(url).hostname || undefined;
  } catch {
    return undefined; // `mqtt://` alone passes the schema; then no URL is accepted
  }
}
