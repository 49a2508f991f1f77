import { type Static, type TSchema, Type } from '@sinclair/typebox';

/**
 * The payload contract of SPEC "MQTT", declared once. The gateway's AsyncAPI test checks what
 * the gateway publishes against these schemas, and the regency collector validates what it
 * receives against the very same ones, so producer and consumer cannot drift apart.
 * Objects stay open (extra keys allowed) where the SPEC says "more keys are welcome"; the
 * envelope and usage events are closed.
 */
export const StampSchema = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$' });
const NullableStamp = Type.Union([StampSchema, Type.Null()]);
export const UuidSchema = Type.String({
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
});
export const GatewayIdSchema = Type.String({ pattern: '^[0-9]{10}$' });
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const Counts = Type.Record(Type.String(), Type.Integer({ minimum: 0 }));

export const LinkVerdictSchema = Type.Union([
  Type.Literal('up'),
  Type.Literal('degraded'),
  Type.Literal('down'),
  Type.Literal('unknown'),
]);
export const FaultLayerSchema = Type.Union([
  Type.Literal('lan'),
  Type.Literal('isp'),
  Type.Literal('dns'),
  Type.Literal('internet'),
  Type.Literal('regency'),
  Type.Null(),
]);
const DeviceStateSchema = Type.Union([
  Type.Literal('online'),
  Type.Literal('degraded'),
  Type.Literal('offline'),
  Type.Literal('unknown'),
]);

/** Every non-retained message: `{ v, gw, boot, seq, id, ts, clock_synced, historical, data }`. */
export function envelopeOf<T extends TSchema>(data: T) {
  return Type.Object(
    {
      v: Type.Literal(1),
      gw: GatewayIdSchema,
      boot: Type.String({ minLength: 1, maxLength: 64 }),
      seq: Type.Integer({ minimum: 1 }),
      id: UuidSchema,
      ts: StampSchema,
      clock_synced: Type.Boolean(),
      historical: Type.Boolean(),
      data,
    },
    { additionalProperties: false },
  );
}

export const StatusPayloadSchema = Type.Object({
  online: Type.Boolean(),
  gw: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  version: Type.Optional(Type.String()),
  boot: Type.Optional(Type.String()),
  started_at: Type.Optional(NullableStamp),
  ts: Type.Optional(StampSchema),
  clock_synced: Type.Optional(Type.Boolean()),
  clean: Type.Optional(Type.Literal(true)),
  commands: Type.Optional(Type.Array(Type.String())),
  /** The gateway's mqtt.health_interval_s: 3 × this without a message is "silent". */
  health_interval_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
  /** The broker username the box connected with (a birth only): confirms a rotation. */
  mqtt_user: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
});

export const LinkPayloadSchema = Type.Object({
  verdict: LinkVerdictSchema,
  fault_layer: FaultLayerSchema,
  since: NullableStamp,
  layers: Type.Record(
    Type.String(),
    Type.Object({
      state: LinkVerdictSchema,
      loss_pct: Type.Optional(NullableNumber),
      rtt_ms: Type.Optional(NullableNumber),
    }),
  ),
  outage: Type.Union([
    Type.Null(),
    Type.Object({ start: StampSchema, fault_layer: Type.Union([Type.String(), Type.Null()]) }),
  ]),
});

export const DevicePayloadSchema = Type.Object({
  id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$' }),
  name: Type.String(),
  kind: Type.Union(
    ['kiosk', 'printer', 'card_reader', 'queue_display', 'access_point', 'camera', 'other'].map((k) =>
      Type.Literal(k),
    ),
  ),
  state: DeviceStateSchema,
  since: NullableStamp,
  reason: Type.Union([Type.String(), Type.Null()]),
  last_heartbeat: NullableStamp,
});

const HealthSummarySchema = Type.Object({
  from: StampSchema,
  to: StampSchema,
  samples: Type.Integer({ minimum: 1 }),
  folded_seqs: Type.Array(Type.Integer({ minimum: 1 })),
  link_verdicts: Counts,
});

export const HealthDataSchema = Type.Object({
  gateway: Type.Object({
    id: Type.String(),
    version: Type.String(),
    boot: Type.Union([Type.String(), Type.Null()]),
    started_at: Type.Optional(NullableStamp),
  }),
  link: Type.Object({ verdict: LinkVerdictSchema, fault_layer: FaultLayerSchema }),
  devices: Type.Object({
    total: Type.Integer({ minimum: 0 }),
    by_state: Counts,
    not_online: Type.Array(
      Type.Object({
        id: Type.String(),
        state: DeviceStateSchema,
        reason: Type.Optional(Type.Union([Type.String(), Type.Null()])),
      }),
      { maxItems: 50 },
    ),
  }),
  outbox: Type.Object({
    depth: Type.Integer({ minimum: 0 }),
    bytes: Type.Integer({ minimum: 0 }),
    oldest_age_s: NullableNumber,
    dropped: Counts,
    dropped_since_last: Type.Optional(Counts),
    connected: Type.Boolean(),
  }),
  cache: Type.Object({ entries: Type.Integer(), bytes: Type.Integer(), upstreams: Type.Object({}) }),
  system: Type.Object({
    cpu_load: NullableNumber,
    temperature_c: NullableNumber,
    throttled: Type.Union([Type.Boolean(), Type.Null()]),
    memory_used_pct: NullableNumber,
    disk_used_pct: NullableNumber,
    rss_mb: NullableNumber,
  }),
  clock: Type.Object({ synced: Type.Boolean(), last_jump_s: NullableNumber }),
  summary: Type.Optional(HealthSummarySchema),
});

export const UsageEventSchema = Type.Object(
  {
    id: Type.String(),
    type: Type.Literal('service_use'),
    service: Type.String(),
    at: Type.Optional(Type.String()),
    outcome: Type.Optional(Type.String()),
    duration_ms: Type.Optional(Type.Number()),
    received_at: Type.Optional(Type.String()),
    clock_synced: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const UsageDataSchema = Type.Object(
  { device_id: Type.String(), events: Type.Array(UsageEventSchema, { minItems: 1, maxItems: 500 }) },
  { additionalProperties: false },
);

export const OutageDataSchema = Type.Object({
  start: StampSchema,
  end: StampSchema,
  duration_s: Type.Number({ minimum: 0 }),
  fault_layer: Type.Union([Type.String(), Type.Null()]),
  interrupted: Type.Optional(Type.Boolean()),
});

export const EventDataSchema = Type.Object({
  code: Type.String(),
  severity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]),
  message: Type.String(),
  details: Type.Optional(Type.Object({})),
});

export const HealthMessageSchema = envelopeOf(HealthDataSchema);
export const UsageMessageSchema = envelopeOf(UsageDataSchema);
export const OutageMessageSchema = envelopeOf(OutageDataSchema);
export const EventMessageSchema = envelopeOf(EventDataSchema);

export type StatusPayload = Static<typeof StatusPayloadSchema>;
export type LinkPayload = Static<typeof LinkPayloadSchema>;
export type DevicePayload = Static<typeof DevicePayloadSchema>;
export type HealthData = Static<typeof HealthDataSchema>;

/** The schema of each topic kind's payload (retained state and envelopes). */
export const PAYLOAD_SCHEMAS = {
  status: StatusPayloadSchema,
  link: LinkPayloadSchema,
  device: DevicePayloadSchema,
  health: HealthMessageSchema,
  usage: UsageMessageSchema,
  outage: OutageMessageSchema,
  event: EventMessageSchema,
} as const;

export type PayloadKind = keyof typeof PAYLOAD_SCHEMAS;
