import { Type } from '@fastify/type-provider-typebox';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const NStr = Nullable(Type.String());
const NNum = Type.Union([Type.Number(), Type.Null()]);
const NBool = Type.Union([Type.Boolean(), Type.Null()]);
export const Err = Type.Object({ error: Type.String(), message: Type.String() });

/** A village code: 10 digits (SPEC `gateway.id`). Anything else is a 400 before any lookup. */
export const CodeParams = Type.Object(
  { code: Type.String({ pattern: '^[0-9]{10}$' }) },
  { additionalProperties: false },
);

const Outage = Type.Union([Type.Null(), Type.Object({ start: Type.String(), fault_layer: NStr })]);

export const VillageDetail = Type.Object({
  code: Type.String(),
  name: NStr,
  kecamatan: NStr,
  isp: NStr,
  known: Type.Boolean(),
  state: Type.String(),
  revoked: NStr,
  online: NBool,
  fault_layer: NStr,
  since: NStr,
  outage: Outage,
  link: Type.Union([
    Type.Null(),
    Type.Object({
      verdict: Type.String(),
      fault_layer: NStr,
      since: NStr,
      layers: Type.Record(
        Type.String(),
        Type.Object({ state: Type.String(), loss_pct: Type.Optional(NNum), rtt_ms: Type.Optional(NNum) }),
      ),
    }),
  ]),
  devices: Type.Array(
    Type.Object({
      id: Type.String(),
      name: NStr,
      kind: NStr,
      state: Type.String(),
      since: NStr,
      reason: NStr,
      last_heartbeat: NStr,
    }),
  ),
  device_counts: Type.Record(Type.String(), Type.Integer()),
  box: Type.Union([
    Type.Null(),
    Type.Object({
      at: NStr,
      system: Type.Object({
        cpu_load: NNum,
        temperature_c: NNum,
        throttled: NBool,
        memory_used_pct: NNum,
        disk_used_pct: NNum,
        rss_mb: NNum,
      }),
      clock: Type.Object({ synced: Type.Boolean(), last_jump_s: NNum }),
      outbox: Type.Object({
        depth: Type.Integer(),
        bytes: Type.Integer(),
        oldest_age_s: NNum,
        connected: Type.Boolean(),
        dropped: Type.Record(Type.String(), Type.Integer()),
      }),
      started_at: NStr,
    }),
  ]),
  version: NStr,
  boot: NStr,
  clock_synced: NBool,
  outbox_depth: Type.Union([Type.Integer(), Type.Null()]),
  last_seen: NStr,
});

export const HistoryQuery = Type.Object(
  { hours: Type.Integer({ minimum: 1, maximum: 24 * 31, default: 24 }) },
  { additionalProperties: false },
);

export const HistoryReply = Type.Object({
  code: Type.String(),
  from: Type.String(),
  to: Type.String(),
  bucket_s: Type.Integer(),
  /** Per bucket: link verdict samples from the health messages (folded summaries included). */
  points: Type.Array(
    Type.Object({
      t: Type.String(),
      samples: Type.Integer(),
      up: Type.Integer(),
      degraded: Type.Integer(),
      down: Type.Integer(),
      unknown: Type.Integer(),
      up_pct: NNum,
      verdict: Type.String(),
      fault_layer: NStr,
    }),
  ),
});

const Stamp = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}([T ][0-9:.]+(Z|[+-]\\d{2}:?\\d{2})?)?$',
  maxLength: 40,
});
export const OutagesQuery = Type.Object(
  { from: Type.Optional(Stamp), to: Type.Optional(Stamp) },
  { additionalProperties: false },
);

export const OutagesReply = Type.Object({
  code: Type.String(),
  from: Type.String(),
  to: Type.String(),
  outages: Type.Array(
    Type.Object({
      start: Type.String(),
      end: NStr,
      duration_s: NNum,
      fault_layer: NStr,
      /** The gateway restarted or lost power during it: the end is the last time it knew. */
      interrupted: Type.Boolean(),
      /** Still going (from the village's current link state). */
      ongoing: Type.Boolean(),
    }),
  ),
});
