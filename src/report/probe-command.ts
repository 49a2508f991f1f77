import type { Config } from '../config/schema.js';
import type { Clock } from '../core/clock.js';
import { isGwError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Scheduler } from '../core/scheduler.js';
import { oneRunMsOf, type ProbeSpec } from '../probes/spec-schema.js';
import type { Probe, ProbeDeps, ProbeResult } from '../probes/types.js';
import { CommandError } from './commands.js';

export interface ProbeCommandDeps {
  config: Pick<Config, 'uplink'>;
  clock: Clock;
  log: Logger;
  scheduler: Scheduler;
  createProbe(spec: ProbeSpec, deps: ProbeDeps): Probe;
}

/**
 * The `ping` command: runs one configured uplink probe once, by its name, with its own
 * deadline on the scheduler. Only configured specs can run, so a remote caller never chooses
 * a host, port or URL.
 */
export function probeRunner(d: ProbeCommandDeps): (name: string) => Promise<ProbeResult & { probe: string }> {
  return async (name) => {
    const spec = d.config.uplink.probes.find((p) => p.name === name);
    if (!spec) throw new CommandError('bad_args', `no configured probe named ${name}`);
    let probe: Probe;
    try {
      probe = d.createProbe(spec, { clock: d.clock, log: d.log });
    } catch (err) {
      throw new CommandError('failed', isGwError(err) ? err.message : 'probe could not be created');
    }
    const controller = new AbortController();
    const timer = d.scheduler.after('ping-command-deadline', oneRunMsOf(spec), () => controller.abort());
    try {
      return { probe: name, ...(await probe.run(controller.signal)) };
    } catch (err) {
      throw new CommandError('failed', isGwError(err) ? err.message : 'probe failed');
    } finally {
      timer.cancel();
    }
  };
}
