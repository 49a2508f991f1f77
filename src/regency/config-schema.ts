import { type Static, Type } from '@sinclair/typebox';
import { DataDirSchema, LogLevelSchema } from '../config/base-schema.js';
import { secretFilesRefinement } from '../config/refinements.js';
import type { ConfigIssue, ConfigRefinement } from '../config/types.js';

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
  },
  { additionalProperties: false },
);

const WebhookSchema = Type.Object(
  {
    url: Type.String({ pattern: '^https?://' }),
    min_down_s: Type.Integer({ minimum: 0, maximum: 7 * 86_400, default: 600 }),
    secret_file: Type.Optional(Type.String({ minLength: 1 })),
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
      },
      { additionalProperties: false, default: {} },
    ),
    /** Commands sent from the regency to a village (POST /api/v1/villages/{code}/commands/{name}). */
    commands: Type.Object(
      { timeout_s: Type.Number({ minimum: 1, maximum: 300, default: 15 }) },
      { additionalProperties: false, default: {} },
    ),
    alerts: Type.Object(
      { webhooks: Type.Array(WebhookSchema, { default: [] }) },
      { additionalProperties: false, default: {} },
    ),
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

export const REGENCY_REFINEMENTS: ConfigRefinement[] = [
  secretFilesRefinement,
  sharedGroupRefinement,
  databasePasswordRefinement,
];

/** Warnings a valid file may still earn (none of the regency's own yet). */
export const REGENCY_ADVISORIES: ConfigRefinement[] = [];
