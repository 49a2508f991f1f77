import { GwError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Service } from '../../core/service.js';
import { BOX_SOURCE, type BrokerCredential, type CredentialsRepo, isActive } from './credentials-repo.js';
import type { Provisioner } from './provisioner.js';

/**
 * In `regency run`: a box confirms its own rotation. A live birth from village X whose
 * `mqtt_user` is X's identity awaiting confirmation ends the rotation as `regency confirm X`
 * does (the old identity retired, the broker files written, provision.broker_reload run), with
 * the audit saying the box did. Any other name (the old one, an unknown one, another
 * village's) changes nothing. Why a claim in a payload may do this: docs/regency.md
 * ("The box confirms its new identity").
 */
export class BoxConfirm implements Service {
  readonly name = 'box-confirm';
  private readonly d: { provisioner: Provisioner; credentials: CredentialsRepo; out: string; log: Logger };
  /** Births are looked at one after another; stop() waits for the last. */
  private tail: Promise<void> = Promise.resolve();

  constructor(deps: BoxConfirm['d']) {
    this.d = deps;
  }

  start(): void {}

  async stop(): Promise<void> {
    await this.tail;
  }

  /** A live birth of village `code` was committed; `mqttUser` is what it says it connected as. */
  birth(code: string, mqttUser: string): Promise<void> {
    this.tail = this.tail.then(() => this.check(code, mqttUser));
    return this.tail;
  }

  private async check(code: string, mqttUser: string): Promise<void> {
    try {
      if (!awaitsBox(await this.d.credentials.get(mqttUser), code)) return;
      const r = await this.d.provisioner.confirm(code, this.d.out, { username: mqttUser, by: BOX_SOURCE });
      const fields = { village: code, username: r.username, retired: r.retired, out: this.d.out };
      if (r.reload === 'manual')
        this.d.log.warn(
          fields,
          'the box confirmed its new identity; copy the broker files to the broker and reload it (or set provision.broker_reload)',
        );
      else
        this.d.log.info(fields, 'the box confirmed its new identity; old identity retired, broker reloaded');
    } catch (err) {
      // Confirmed meanwhile (the operator, another collector, the grace): nothing left to do.
      if (err instanceof GwError && err.code === 'GW_ERR_NOTHING_PENDING') return;
      this.d.log.warn({ err, village: code }, 'confirming the box from its birth failed');
    }
  }
}

/** The identity is the village's new one, issued by a rotation and still awaiting its box. */
function awaitsBox(c: BrokerCredential | undefined, code: string): boolean {
  return (
    c !== undefined && c.role === 'village' && c.code === code && c.grace_until_ms !== null && isActive(c)
  );
}
