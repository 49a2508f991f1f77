import type { Config } from '../../config/schema.js';
import type { Logger } from '../../core/logger.js';
import type { Scheduler } from '../../core/scheduler.js';
import { type Operation, OperationError } from '../../modules/operations.js';
import { getConfigOperation, logLevelOperation } from '../../report/builtin-commands.js';
import { remoteCommand } from '../../report/command-names.js';
import type { LinkModel } from './link-model.js';

export interface VillageOpsDeps {
  config: Config;
  link: LinkModel;
  log: Logger;
  scheduler: Scheduler;
  flushOutbox(): unknown;
}

/**
 * The commands a simulated box answers: the daemon's MQTT names with the same argument checks
 * (`get-config` and `set-log-level` are the daemon's own operations); `ping` and `diagnose`
 * answer from the simulated uplink (a layer that is down times out), `refresh-cache` pretends.
 */
export function villageOperations(d: VillageOpsDeps): { operations: Operation[]; stop(): void } {
  const logLevel = logLevelOperation({
    configured: d.config.log_level,
    rootLog: d.log,
    scheduler: d.scheduler,
  });
  const operations: Operation[] = [
    {
      name: remoteCommand('ping'),
      mqtt: true,
      description: 'run one configured uplink probe by its name (args.probe)',
      run: ({ args }) => {
        const probe = args.probe;
        if (typeof probe !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(probe))
          throw new OperationError('bad_args', 'args.probe must name a configured probe');
        const spec = d.config.uplink.probes.find((p) => p.name === probe);
        if (!spec) throw new OperationError('bad_args', `no configured probe named ${probe}`);
        const layer = d.link.status.layers[spec.layer];
        if (!layer || layer.state === 'down')
          return { probe, outcome: 'timeout', latency_ms: null, fields: {} };
        return { probe, outcome: 'ok', latency_ms: layer.rtt_ms, fields: { loss_pct: layer.loss_pct } };
      },
    },
    {
      name: remoteCommand('diagnose'),
      mqtt: true,
      description: 'one round of every uplink probe, lowest layer first, with the failing layer',
      run: () => {
        const s = d.link.status;
        return { verdict: s.verdict, fault_layer: s.fault_layer, since: s.since, layers: s.layers };
      },
    },
    {
      name: remoteCommand('refresh-cache'),
      mqtt: true,
      description: 'fetch every prefetch path of every upstream now',
      run: () => ({ upstreams: { layanan: { refreshed: 2, failed: 0 } } }),
    },
    {
      name: remoteCommand('flush-outbox'),
      mqtt: true,
      description: 'send the regency backlog now, without pacing',
      run: () => d.flushOutbox(),
    },
    getConfigOperation(d.config),
    logLevel.operation,
  ];
  return { operations, stop: () => logLevel.service.stop() };
}
