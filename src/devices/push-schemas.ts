import { type Static, Type } from '@sinclair/typebox';

/** Schemas of the kiosk push API (SPEC: device routes). Strict: no field beyond these. */

export const DeviceParams = Type.Object(
  { id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$' }) },
  { additionalProperties: false },
);

const ISO_TIME = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,6})?(Z|[+-]\\d{2}:\\d{2})$';
const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

export const UsageEventSchema = Type.Object(
  {
    id: Type.String({ pattern: UUID }),
    type: Type.Literal('service_use'),
    // A service name such as "akta-kelahiran" or "KTP-el"; free text but short.
    service: Type.String({ minLength: 1, maxLength: 64 }),
    at: Type.Optional(Type.String({ pattern: ISO_TIME, maxLength: 40 })),
    outcome: Type.Optional(Type.String({ pattern: '^[a-z][a-z_]{0,31}$' })),
    duration_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400_000 })),
  },
  { additionalProperties: false },
);
export type UsageEvent = Static<typeof UsageEventSchema>;

export const EventsBody = Type.Object(
  { events: Type.Array(UsageEventSchema, { minItems: 1, maxItems: 500 }) },
  { additionalProperties: false },
);
export type EventsBody = Static<typeof EventsBody>;

export const EventsReply = Type.Object(
  { accepted: Type.Integer({ minimum: 0 }), duplicates: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);

const Level = (values: string[]) => Type.Union(values.map((v) => Type.Literal(v)));

export const TelemetrySchema = Type.Object(
  {
    paper: Type.Optional(Level(['ok', 'low', 'out'])),
    printer: Type.Optional(Level(['ok', 'error', 'offline', 'absent'])),
    card_reader: Type.Optional(Level(['ok', 'error', 'absent'])),
    free_disk_mb: Type.Optional(Type.Number({ minimum: 0, maximum: 1e9 })),
  },
  {
    // Free-form numeric readings (temperature_c, queue_len, ...) within limits.
    additionalProperties: Type.Number({ minimum: -1e12, maximum: 1e12 }),
    propertyNames: { pattern: '^[a-z][a-z0-9_]{0,31}$' },
    maxProperties: 32,
  },
);
export type Telemetry = Static<typeof TelemetrySchema>;

export const HeartbeatErrorSchema = Type.Object(
  {
    code: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' }),
    message: Type.Optional(Type.String({ maxLength: 200 })),
    at: Type.Optional(Type.String({ pattern: ISO_TIME, maxLength: 40 })),
  },
  { additionalProperties: false },
);

export const HeartbeatBody = Type.Object(
  {
    status: Type.Optional(Level(['ok', 'degraded', 'error'])),
    app_version: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._+-]{1,40}$' })),
    uptime_s: Type.Optional(Type.Integer({ minimum: 0, maximum: 1e10 })),
    telemetry: Type.Optional(TelemetrySchema),
    errors: Type.Optional(Type.Array(HeartbeatErrorSchema, { maxItems: 20 })),
  },
  { additionalProperties: false },
);
export type HeartbeatBody = Static<typeof HeartbeatBody>;

export const ErrorReply = Type.Object({ error: Type.String(), message: Type.String() });
