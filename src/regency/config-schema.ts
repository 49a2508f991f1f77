import { type Static, Type } from '@sinclair/typebox';
import { DataDirSchema, LogLevelSchema } from '../config/base-schema.js';
import { hasUrlCredentials } from '../config/redact.js';
import { brokerUrlRefinement, secretFilesRefinement } from '../config/refinements.js';
import type { ConfigIssue, ConfigRefinement } from '../config/types.js';
import { PLACEHOLDERS, unknownPlaceholders } from './alerts/templates.js';
import { wibStampMs } from './reports/maintenance.js';

/** The regency's config file (SPEC "The regency side"): composed here, validated by config/loader. */
const RegencySchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 120 }),
    /** code,name,kecamatan[,isp]; absent: the bundled Banyuwangi list (203 villages). */
    villages_file: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

const DatabaseSchema = Type.Object(
  {
    /** Empty: embedded SQLite in data_dir. `postgres://user@host:5432/db`: PostgreSQL. */
    url: Type.String({ pattern: '^$|^postgres(ql)?://', default: '' }),
    password_file: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false, default: {} },
);

const HttpSchema = Type.Object(
  {
    listen: Type.String({ pattern: '^(\\[[0-9a-fA-F:]+\\]|[^:\\s]+):[0-9]{1,5}$', default: '0.0.0.0:8090' }),
    metrics: Type.Boolean({ default: true }),
    /** HTTPS with this certificate and key (PEM); boxes fetch their bundles over it. */
    tls: Type.Optional(
      Type.Object(
        {
          cert_file: Type.String({ minLength: 1 }),
          key_file: Type.String({ minLength: 1 }),
          /** The CA that signed cert_file, whose fingerprint boxes pin; default: cert_file itself. */
          ca_file: Type.Optional(Type.String({ minLength: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, default: {} },
);

const MqttSchema = Type.Object(
  {
    url: Type.String({ pattern: '^mqtts?://' }),
    username: Type.Optional(Type.String({ minLength: 1 })),
    password_file: Type.Optional(Type.String({ minLength: 1 })),
    ca_file: Type.Optional(Type.String({ minLength: 1 })),
    cert_file: Type.Optional(Type.String({ minLength: 1 })),
    key_file: Type.Optional(Type.String({ minLength: 1 })),
    topic_prefix: Type.String({ pattern: '^[^#+\\s]+[^/#+\\s]$', default: 'kampung/v1' }),
    /** The persistent session's identity: keep it stable, one per collector instance. */
    client_id: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', default: 'kampung-regency-1' }),
    /** Set: subscribe as `$share/{group}/…`, so N collectors split the stream. */
    shared_group: Type.String({ pattern: '^$|^[A-Za-z0-9._-]{1,64}$', default: '' }),
    /** How long the broker keeps the session (and queues for it) while the collector is away. */
    session_expiry_s: Type.Integer({ minimum: 60, maximum: 4_294_967_295, default: 7 * 86_400 }),
    reconnect_s: Type.Number({ minimum: 0.1, maximum: 300, default: 2 }),
    /**
     * 5 (default) or 4 (MQTT 3.1.1) for a broker without MQTT 5, such as the demo's embedded
     * one: no session expiry or receive maximum then, and command replies are taken from the
     * villages' own `{root}/cmd/{name}/reply` topics (matched by id).
     */
    protocol_version: Type.Union([Type.Literal(4), Type.Literal(5)], { default: 5 }),
  },
  { additionalProperties: false },
);

const LanguageSchema = Type.Union([Type.Literal('id'), Type.Literal('en')]);

const WebhookSchema = Type.Object(
  {
    url: Type.String({ pattern: '^https?://' }),
    /** A village down, silent or offline this long (and still) is announced. */
    min_down_s: Type.Integer({ minimum: 0, maximum: 7 * 86_400, default: 600 }),
    /** While it stays bad, announced again every this many hours after the first (0: never). */
    remind_every_h: Type.Number({ minimum: 0, maximum: 168, default: 0 }),
    /** Sent as `Authorization: Bearer <secret>`; read at each delivery, never logged. */
    secret_file: Type.Optional(Type.String({ minLength: 1 })),
    /** The text of this hook's messages; default alerts.language. */
    language: Type.Optional(LanguageSchema),
  },
  { additionalProperties: false },
);

/** Message text with `{placeholders}` (alerts/templates.ts lists them); no code runs. */
const TemplatesSchema = Type.Object(
  {
    down: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
    reminder: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
    up: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  },
  { additionalProperties: false, default: {} },
);

const AlertsSchema = Type.Object(
  {
    webhooks: Type.Array(WebhookSchema, { default: [] }),
    /** id: Bahasa Indonesia, en: English. */
    language: Type.Optional(LanguageSchema),
    /** Replace the built-in text of the alert language (both languages take the same keys). */
    templates: TemplatesSchema,
    /** A village must stay well this long before its episode ends: flaps stay one episode. */
    recover_s: Type.Integer({ minimum: 0, maximum: 86_400, default: 120 }),
    /** How often village states are compared (the wall's own rule, see `silent_after_s`). */
    check_s: Type.Number({ minimum: 0.2, maximum: 300, default: 10 }),
    retry: Type.Object(
      {
        /** First retry after this; doubled per failure (with jitter) up to max_s. */
        initial_s: Type.Number({ minimum: 0.1, maximum: 3600, default: 10 }),
        max_s: Type.Number({ minimum: 0.1, maximum: 86_400, default: 600 }),
        /** An alert not delivered after this long is marked failed (kept, counted, logged). */
        give_up_h: Type.Number({ minimum: 0.01, maximum: 720, default: 48 }),
        timeout_s: Type.Number({ minimum: 1, maximum: 120, default: 10 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

const WibStamp = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}[ T]\\d{2}:\\d{2}$' });
const WibClock = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$|^24:00$' });
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** One ISP's contract: the availability it promised per WIB month. */
const ContractSchema = Type.Object(
  {
    /** As in the villages file's isp column. */
    isp: Type.String({ minLength: 1, maxLength: 80 }),
    slo_pct: Type.Number({ minimum: 0, maximum: 100 }),
  },
  { additionalProperties: false },
);

/**
 * A declared maintenance window, in WIB: one-off (`start`, `end`: "YYYY-MM-DD HH:MM") or
 * weekly (`weekly.days`, `weekly.from`, `weekly.to`: "HH:MM"). It applies to the villages
 * matching every scope key given (`isp`, `kecamatan`, `village`); none given: every village.
 */
const MaintenanceSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 120 }),
    isp: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
    kecamatan: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
    village: Type.Optional(Type.String({ pattern: '^[0-9]{10}$' })),
    start: Type.Optional(WibStamp),
    end: Type.Optional(WibStamp),
    weekly: Type.Optional(
      Type.Object(
        {
          days: Type.Array(Type.Union(WEEKDAYS.map((d) => Type.Literal(d))), { minItems: 1, maxItems: 7 }),
          from: WibClock,
          to: WibClock,
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const RegencyConfigSchema = Type.Object(
  {
    regency: RegencySchema,
    data_dir: Type.String({ ...DataDirSchema, default: '/var/lib/kampung-regency' }),
    database: DatabaseSchema,
    log_level: LogLevelSchema,
    http: HttpSchema,
    mqtt: MqttSchema,
    silent_after_s: Type.Integer({ minimum: 10, maximum: 7 * 86_400, default: 180 }),
    completeness: Type.Object(
      { repair_after_s: Type.Integer({ minimum: 10, maximum: 30 * 86_400, default: 300 }) },
      { additionalProperties: false, default: {} },
    ),
    /** `regency provision`: what the village bundles point the gateways at. */
    provision: Type.Object(
      {
        /** The URL the gateways use (mqtts:// for TLS); default: mqtt.url. */
        gateway_url: Type.Optional(Type.String({ pattern: '^mqtts?://' })),
        /** The CA certificate the gateways trust (copied as ca.pem); default: mqtt.ca_file. */
        ca_file: Type.Optional(Type.String({ minLength: 1 })),
        /** Where the broker files and bundles go; default: data_dir/provision. */
        out_dir: Type.Optional(Type.String({ minLength: 1 })),
        /**
         * `regency provision --cert`: the CA that signs the villages' client certificates; default:
         * one made by the command under <out>/ca/. `cert_url`: the broker listener that requires
         * them (default gateway_url).
         */
        client_ca: Type.Optional(
          Type.Object(
            { cert_file: Type.String({ minLength: 1 }), key_file: Type.String({ minLength: 1 }) },
            { additionalProperties: false },
          ),
        ),
        cert_url: Type.Optional(Type.String({ pattern: '^mqtts://' })),
        /** How long a one-time bundle code (`provision --fetch-code`) stays valid. */
        code_ttl_s: Type.Integer({ minimum: 60, maximum: 7 * 86_400, default: 3600 }),
        /** The regency's address as the boxes reach it (printed with each code), e.g. https://noc.example:8090. */
        fetch_url: Type.Optional(Type.String({ pattern: '^https://' })),
        /**
         * Provisioning a village again (rotation): its old identity stays valid beside the new
         * one until the box confirms the new one (`regency confirm`) or this long at most; 0 ends
         * the old one at once. A stolen box is `regency revoke`, never a rotation.
         */
        rotation_grace_s: Type.Integer({ minimum: 0, maximum: 90 * 86_400, default: 7 * 86_400 }),
        /**
         * The command (an argument list, no shell) that makes the broker read its files again
         * after they change, e.g. [systemctl, reload, mosquitto]; `regency run` uses it when a
         * grace ends. Unset: the operator copies the files and reloads by hand.
         */
        broker_reload: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Commands sent from the regency to a village (POST /api/v1/villages/{code}/commands/{name}). */
    commands: Type.Object(
      { timeout_s: Type.Number({ minimum: 1, maximum: 300, default: 15 }) },
      { additionalProperties: false, default: {} },
    ),
    alerts: AlertsSchema,
    /** How long the store keeps what (pruned hourly in batches; 0 keeps forever). */
    retention: Type.Object(
      {
        /** Raw health and event envelopes and the quarantine: the bulk of the store. */
        raw_days: Type.Union([Type.Literal(0), Type.Integer({ minimum: 14, maximum: 36_500 })], {
          default: 35,
        }),
        /**
         * Daily aggregates (completeness ledger, seq reuse, closed gaps), the report facts
         * (outage and usage envelopes), the command audit and delivered alerts.
         */
        daily_days: Type.Union([Type.Literal(0), Type.Integer({ minimum: 14, maximum: 36_500 })], {
          default: 1830,
        }),
        /** Rows deleted per transaction: small enough not to stall ingest. */
        batch: Type.Integer({ minimum: 100, maximum: 100_000, default: 5000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** The availability report's SLA: contracts per ISP and the fault layers charged to the ISP. */
    sla: Type.Object(
      {
        contracts: Type.Array(ContractSchema, { default: [] }),
        charged_layers: Type.Array(
          Type.Union(['lan', 'isp', 'dns', 'internet', 'regency', 'unknown'].map((l) => Type.Literal(l))),
          { default: ['isp'], minItems: 1 },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Declared maintenance windows, excluded from availability and SLA (and shown). */
    maintenance: Type.Array(MaintenanceSchema, { default: [] }),
  },
  { additionalProperties: false },
);

export type RegencyConfig = Static<typeof RegencyConfigSchema>;

/** Collector instances on one store must not share a session: the broker would kick one out. */
const sharedGroupRefinement: ConfigRefinement = (config) => {
  const c = config as RegencyConfig;
  const issues: ConfigIssue[] = [];
  if (c.mqtt.shared_group !== '' && c.database.url === '')
    issues.push({
      path: 'mqtt.shared_group',
      message: 'several collectors need a shared store: set database.url to a PostgreSQL database',
    });
  return issues;
};

/** Secrets come from files: a password in database.url would reach logs and status output. */
const databasePasswordRefinement: ConfigRefinement = (config) => {
  const url = (config as RegencyConfig).database.url;
  return /^[a-z]+:\/\/[^/@]*:[^/@]*@/i.test(url)
    ? [{ path: 'database.url', message: 'no password in the URL: put it in database.password_file' }]
    : [];
};

/** Templates may only name known placeholders: a typo is an error at load, not a blank in a message. */
const templatesRefinement: ConfigRefinement = (config) => {
  const t = (config as RegencyConfig).alerts.templates;
  const issues: ConfigIssue[] = [];
  for (const kind of ['down', 'reminder', 'up'] as const) {
    const text = t[kind];
    if (text === undefined) continue;
    for (const name of unknownPlaceholders(text))
      issues.push({
        path: `alerts.templates.${kind}`,
        message: `unknown placeholder {${name}}; known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`,
      });
  }
  return issues;
};

/** A webhook token belongs in secret_file: a URL with userinfo would reach logs and status. */
const webhookUrlRefinement: ConfigRefinement = (config) =>
  (config as RegencyConfig).alerts.webhooks.flatMap((h, i) =>
    hasUrlCredentials(h.url)
      ? [
          {
            path: `alerts.webhooks[${i}].url`,
            message: 'no credentials in the URL: put the token in secret_file',
          },
        ]
      : [],
  );

/** Aggregates outlive the raw rows they summarise, never the other way round. */
const retentionRefinement: ConfigRefinement = (config) => {
  const r = (config as RegencyConfig).retention;
  const forever = (d: number) => (d === 0 ? Number.POSITIVE_INFINITY : d);
  return forever(r.daily_days) < forever(r.raw_days)
    ? [{ path: 'retention.daily_days', message: 'must be at least retention.raw_days (0 keeps forever)' }]
    : [];
};

/** A window is one-off or weekly, never both; a one-off ends after it starts; one contract per ISP. */
const slaRefinement: ConfigRefinement = (config) => {
  const c = config as RegencyConfig;
  const issues: ConfigIssue[] = [];
  c.maintenance.forEach((w, i) => {
    const path = `maintenance[${i}]`;
    const oneOff = w.start !== undefined || w.end !== undefined;
    if (oneOff && w.weekly)
      issues.push({ path, message: 'either start and end (one-off) or weekly (recurring), not both' });
    else if (!oneOff && !w.weekly) issues.push({ path, message: 'give start and end, or weekly' });
    else if (oneOff && (w.start === undefined || w.end === undefined))
      issues.push({ path, message: 'a one-off window needs both start and end' });
    else if (oneOff && Number.isNaN(wibStampMs(w.start as string)))
      issues.push({ path: `${path}.start`, message: 'not a date and time' });
    else if (oneOff && !(wibStampMs(w.end as string) > wibStampMs(w.start as string)))
      issues.push({ path: `${path}.end`, message: 'end must be a date and time after start' });
    else if (w.weekly && w.weekly.to <= w.weekly.from)
      issues.push({
        path: `${path}.weekly.to`,
        message: 'to must be after from (split a window over midnight in two)',
      });
  });
  const seen = new Set<string>();
  c.sla.contracts.forEach((k, i) => {
    if (seen.has(k.isp))
      issues.push({ path: `sla.contracts[${i}].isp`, message: `${k.isp} has two contracts` });
    seen.add(k.isp);
  });
  return issues;
};

export const REGENCY_REFINEMENTS: ConfigRefinement[] = [
  webhookUrlRefinement,
  retentionRefinement,
  secretFilesRefinement,
  brokerUrlRefinement(['mqtt.url', 'provision.gateway_url', 'provision.cert_url']),
  sharedGroupRefinement,
  databasePasswordRefinement,
  templatesRefinement,
  slaRefinement,
];

/** Warnings a valid file may still earn (none of the regency's own yet). */
export const REGENCY_ADVISORIES: ConfigRefinement[] = [];
