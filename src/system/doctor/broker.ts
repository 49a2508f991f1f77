import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions } from 'mqtt';
import { redactUrl } from '../../config/redact.js';
import { brokerOptions } from '../../report/broker-url.js';
import { type CheckResult, type DoctorCheck, result, t } from './types.js';

const CONNECT_TIMEOUT_MS = 5000;
/** CONNACK codes: 3.1.1 (4, 5) and MQTT 5 (134 bad user/password, 135 not authorised). */
const AUTH_CODES = new Set([4, 5, 134, 135]);
const AUTH_WORDS: Record<number, { id: string; en: string }> = {
  4: { id: 'nama atau sandi salah', en: 'wrong user name or password' },
  5: { id: 'tidak diizinkan', en: 'not authorised' },
  134: { id: 'nama atau sandi salah', en: 'wrong user name or password' },
  135: { id: 'tidak diizinkan', en: 'not authorised' },
};
const TLS_CODE = /CERT|SSL|TLS|ALTNAME|SELF_SIGNED|UNABLE_TO_VERIFY|EPROTO/i;

function options(mqttConfig: NonNullable<import('../../config/schema.js').Config['mqtt']>, gwId: string) {
  const o: IClientOptions = {
    protocolVersion: mqttConfig.protocol_version,
    connectTimeout: CONNECT_TIMEOUT_MS,
    reconnectPeriod: 0,
    clean: true,
    clientId: `kgw-doctor-${gwId}-${process.pid}`,
  };
  if (mqttConfig.username) o.username = mqttConfig.username;
  if (mqttConfig.password_file) o.password = readFileSync(mqttConfig.password_file, 'utf8').trim();
  if (mqttConfig.ca_file) o.ca = readFileSync(mqttConfig.ca_file);
  if (mqttConfig.cert_file) o.cert = readFileSync(mqttConfig.cert_file);
  if (mqttConfig.key_file) o.key = readFileSync(mqttConfig.key_file);
  return o;
}

/** Connects once with the daemon's own settings: reachable, TLS accepted, credentials accepted. */
export const brokerCheck: DoctorCheck = {
  name: 'broker',
  async run({ config }): Promise<CheckResult> {
    const m = config.mqtt;
    if (!m) {
      return result('broker', 'skip', t('MQTT tidak dikonfigurasi', 'MQTT is not configured'));
    }
    const url = redactUrl(m.url);
    const tls = url.startsWith('mqtts://');
    let opts: IClientOptions;
    try {
      opts = options(m, config.gateway.id);
    } catch (err) {
      return result(
        'broker',
        'fail',
        t(
          'Berkas rahasia/sertifikat MQTT tidak bisa dibaca',
          'An MQTT secret or certificate file cannot be read',
        ),
        t(
          'Periksa password_file, ca_file, cert_file, key_file',
          'Check password_file, ca_file, cert_file, key_file',
        ),
        { error: (err as NodeJS.ErrnoException).code ?? 'error' },
      );
    }
    const client = mqtt.connect(brokerOptions(url, opts));
    const outcome = await new Promise<{ ok: true } | { ok: false; err: Error & { code?: unknown } }>(
      (resolve) => {
        const timer = setTimeout(
          () => resolve({ ok: false, err: Object.assign(new Error('timeout'), { code: 'TIMEOUT' }) }),
          CONNECT_TIMEOUT_MS + 500,
        );
        client.once('connect', () => {
          clearTimeout(timer);
          resolve({ ok: true });
        });
        client.once('error', (err) => {
          clearTimeout(timer);
          resolve({ ok: false, err: err as Error & { code?: unknown } });
        });
        client.once('close', () => {
          clearTimeout(timer);
          resolve({ ok: false, err: Object.assign(new Error('connection closed'), { code: 'CLOSED' }) });
        });
      },
    );
    await client.endAsync(true).catch(() => undefined);
    const facts = { url, tls, username: m.username ?? null };
    if (outcome.ok) {
      return result(
        'broker',
        'ok',
        t(
          `Broker ${url} terjangkau${tls ? ', TLS sah' : ''}, login diterima`,
          `Broker ${url} reachable${tls ? ', TLS valid' : ''}, login accepted`,
        ),
        undefined,
        facts,
      );
    }
    const code = outcome.err.code;
    if (typeof code === 'number' && AUTH_CODES.has(code)) {
      const who = m.username ? `${m.username}, ` : '';
      return result(
        'broker',
        'fail',
        t(
          `Broker ${url} menolak identitas kotak ini (${who}kode ${code}: ${AUTH_WORDS[code]?.id})`,
          `Broker ${url} refused this box's identity (${who}code ${code}: ${AUTH_WORDS[code]?.en})`,
        ),
        t(
          'Sandi di password_file tidak cocok, atau regensi telah mencabut atau mengganti identitas desa ini ' +
            '(kotak dilaporkan hilang, atau bundel baru sudah dibuat). Hubungi Diskominfo: minta bundel baru ' +
            '(regency provision), lalu pasang dengan: kampung-gw provision <folder bundel>',
          'The secret in password_file does not match, or the regency has revoked or replaced this ' +
            "village's identity (a box reported lost, or a newer bundle made). Call the regency IT: ask for a " +
            'new bundle (regency provision), then install it with: kampung-gw provision <bundle folder>',
        ),
        { ...facts, code },
      );
    }
    if (TLS_CODE.test(String(code ?? '')) || TLS_CODE.test(outcome.err.message)) {
      return result(
        'broker',
        'fail',
        t(
          `TLS ke ${url} gagal (${code ?? outcome.err.message})`,
          `TLS to ${url} failed (${code ?? outcome.err.message})`,
        ),
        t(
          'Periksa ca_file dan jam box (sertifikat dianggap kedaluwarsa bila jam salah)',
          'Check ca_file and the box clock (a wrong clock makes certificates look expired)',
        ),
        { ...facts, code: String(code ?? '') },
      );
    }
    return result(
      'broker',
      'fail',
      t(
        `Broker ${url} tidak terjangkau (${String(code ?? outcome.err.message)})`,
        `Broker ${url} unreachable (${String(code ?? outcome.err.message)})`,
      ),
      t(
        'Periksa uplink (lihat status) dan alamat/port broker di konfigurasi',
        'Check the uplink (see status) and the broker address/port in the config',
      ),
      { ...facts, code: String(code ?? '') },
    );
  },
};
