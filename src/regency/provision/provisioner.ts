import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { GwError } from '../../core/errors.js';
import type { RegencyConfig } from '../config-schema.js';
import type { VillageRegistry } from '../villages.js';
import {
  renderEmqxAuthn,
  renderEmqxAuthz,
  renderEmqxRevoked,
  renderEmqxUsersCsv,
  renderEmqxUsersJson,
  renderMosquittoAcl,
  renderMosquittoPasswd,
} from './broker-files.js';
import { hashBrokerPassword, newBrokerPassword, verifyBrokerPassword } from './broker-hash.js';
import { type ClientCa, ensureClientCa, type IssuedCert, issueClientCert, writeCrl } from './client-ca.js';
import { type CredentialsRepo, villageUsername } from './credentials-repo.js';
import { PUBLIC_MODE, SECRET_MODE, secureDir, writeFileAtomic } from './secure-write.js';

export const DEFAULT_COLLECTOR_USERNAME = 'regency-collector';
/** Where the collector's secret goes when the config names none (SPEC's example path). */
const DEFAULT_COLLECTOR_SECRET = '/etc/kampung-gateway/regency-mqtt.secret';

export interface ProvisionDeps {
  config: RegencyConfig;
  registry: VillageRegistry;
  credentials: CredentialsRepo;
  wallMs: () => number;
}

export interface ProvisionResult {
  out: string;
  villages: Array<{ code: string; action: 'created' | 'rotated'; bundle: string }>;
  /** created: a new secret in collector/mqtt.secret; adopted: the one mqtt.password_file names; kept. */
  collector: 'created' | 'adopted' | 'kept';
  tls: boolean;
}

/** Where the broker files and bundles go: --out, else provision.out_dir, else data_dir/provision. */
export function provisionOutDir(config: RegencyConfig, flag: string | undefined): string {
  return flag ?? config.provision.out_dir ?? join(config.data_dir, 'provision');
}

/**
 * `regency provision`: a fresh secret per village (the old one stops working when the broker
 * files are reloaded), only its hash kept; then every broker file is written again from the
 * store, so the password file always holds every village still provisioned.
 */
export class Provisioner {
  private readonly d: ProvisionDeps;

  constructor(deps: ProvisionDeps) {
    this.d = deps;
  }

  async provision(
    codes: readonly string[],
    out: string,
    o: { cert?: boolean } = {},
  ): Promise<ProvisionResult> {
    const unknown = codes.filter((c) => this.d.registry.get(c) === undefined);
    if (unknown.length > 0)
      throw new GwError('GW_ERR_VALIDATION', `not in the villages registry: ${unknown.join(', ')}`);
    secureDir(out);
    const collector = await this.ensureCollector(out);
    const villages: ProvisionResult['villages'] = [];
    const ca = o.cert ? await ensureClientCa(out, this.configuredCa) : undefined;
    for (const code of [...new Set(codes)]) {
      const password = newBrokerPassword();
      const username = villageUsername(code);
      const action = await this.d.credentials.put(
        username,
        'village',
        code,
        hashBrokerPassword(password),
        this.d.wallMs(),
      );
      const cert = ca ? await issueClientCert(ca, username) : undefined;
      if (cert) await this.d.credentials.setCert(username, cert.serial, cert.notAfterMs);
      villages.push({ code, action, bundle: this.writeBundle(out, code, password, cert) });
    }
    await this.writeBrokerFiles(out);
    return { out, villages, collector, tls: this.tls };
  }

  /** `regency revoke`: the village's identity is refused from the next broker reload on. */
  async revoke(code: string, out: string): Promise<void> {
    if (!(await this.d.credentials.revoke(villageUsername(code), this.d.wallMs())))
      throw new GwError('GW_ERR_NOT_FOUND', `village ${code} was never provisioned`);
    rmSync(join(out, 'villages', code), { recursive: true, force: true });
    secureDir(out);
    await this.writeBrokerFiles(out);
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

  private get caFile(): string | undefined {
    return this.d.config.provision.ca_file ?? this.d.config.mqtt.ca_file;
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
      await this.d.credentials.put(
        username,
        'collector',
        null,
        hashBrokerPassword(password),
        this.d.wallMs(),
      );
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

  private writeBundle(out: string, code: string, password: string, cert?: IssuedCert): string {
    const dir = join(out, 'villages', code);
    secureDir(dir);
    const ca = this.tls && this.caFile ? readFileSync(this.caFile, 'utf8') : undefined;
    const village = this.d.registry.get(code);
    const block = {
      url: cert ? (this.d.config.provision.cert_url ?? this.gatewayUrl) : this.gatewayUrl,
      username: villageUsername(code),
      // Relative: next to the gateway's config; `kampung-gw provision` installs them there.
      password_file: 'mqtt.secret',
      ...(ca ? { ca_file: 'mqtt-ca.pem' } : {}),
      ...(cert ? { cert_file: 'mqtt-client.pem', key_file: 'mqtt-client.key' } : {}),
      topic_prefix: this.d.config.mqtt.topic_prefix,
    };
    if (cert) {
      writeFileAtomic(join(dir, 'client.pem'), cert.cert, PUBLIC_MODE);
      writeFileAtomic(join(dir, 'client.key'), cert.key, SECRET_MODE);
    } else for (const f of ['client.pem', 'client.key']) rmSync(join(dir, f), { force: true });
    writeFileAtomic(
      join(dir, 'mqtt.yaml'),
      `# ${code} ${village?.name ?? ''} — install on the box: kampung-gw provision <this folder>\n${stringify(block)}`,
      PUBLIC_MODE,
    );
    writeFileAtomic(join(dir, 'mqtt.secret'), `${password}\n`, SECRET_MODE);
    if (ca) writeFileAtomic(join(dir, 'ca.pem'), ca, PUBLIC_MODE);
    else rmSync(join(dir, 'ca.pem'), { force: true });
    return dir;
  }

  private async writeBrokerFiles(out: string): Promise<void> {
    const credentials = await this.d.credentials.all();
    const inputs = { prefix: this.d.config.mqtt.topic_prefix, credentials };
    // The broker reads these as its own user: world-unreadable, the operator sets the owner.
    writeFileAtomic(join(out, 'mosquitto', 'passwd'), renderMosquittoPasswd(credentials), SECRET_MODE);
    writeFileAtomic(join(out, 'mosquitto', 'acl'), renderMosquittoAcl(inputs), SECRET_MODE);
    const iterations = credentials[0]?.iterations ?? 101;
    writeFileAtomic(join(out, 'emqx', 'users.csv'), renderEmqxUsersCsv(credentials), SECRET_MODE);
    writeFileAtomic(join(out, 'emqx', 'users.json'), renderEmqxUsersJson(credentials), SECRET_MODE);
    writeFileAtomic(join(out, 'emqx', 'authz-users.json'), renderEmqxAuthz(inputs), SECRET_MODE);
    writeFileAtomic(join(out, 'emqx', 'revoked-users.txt'), renderEmqxRevoked(credentials), SECRET_MODE);
    writeFileAtomic(join(out, 'emqx', 'authn.conf'), renderEmqxAuthn(iterations), SECRET_MODE);
    // With client certificates: the CA Mosquitto checks them against, and the CRL of revoked
    // and replaced ones, written again in full from the store.
    const made = join(out, 'ca', 'client-ca.pem');
    const ca =
      this.configuredCa ??
      (existsSync(made) ? { certFile: made, keyFile: join(out, 'ca', 'client-ca.key') } : undefined);
    if (ca) {
      writeFileAtomic(
        join(out, 'mosquitto', 'client-ca.pem'),
        readFileSync(ca.certFile, 'utf8'),
        PUBLIC_MODE,
      );
      await writeCrl(ca, await this.d.credentials.revokedCerts(), join(out, 'mosquitto', 'crl.pem'));
    }
  }
}

function readSecret(file: string): string {
  return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
}
