import { type Static, Type } from '@sinclair/typebox';

export const MqttConfigSchema = Type.Object(
  {
    url: Type.String({ pattern: '^mqtts?://' }),
    protocol_version: Type.Union([Type.Literal(5), Type.Literal(4)], {
      default: 5,
      description: '5 = MQTT 5, 4 = MQTT 3.1.1',
    }),
    username: Type.Optional(Type.String({ minLength: 1 })),
    password_file: Type.Optional(Type.String({ minLength: 1 })),
    ca_file: Type.Optional(Type.String({ minLength: 1 })),
    cert_file: Type.Optional(Type.String({ minLength: 1 })),
    key_file: Type.Optional(Type.String({ minLength: 1 })),
    topic_prefix: Type.String({ pattern: '^[^#+\\s]+[^/#+\\s]$', default: 'kampung/v1' }),
    health_interval_s: Type.Integer({ minimum: 10, maximum: 3600, default: 60 }),
    outbox_max_mb: Type.Number({ minimum: 1, maximum: 4096, default: 64 }),
    drain_per_s: Type.Integer({ minimum: 1, maximum: 100000, default: 200 }),
    // Envelopes kept after PUBACK for the regency's `resend` (gap repair); 0 = deleted at PUBACK.
    resend_days: Type.Number({ minimum: 0, maximum: 90, default: 7 }),
    connect_delay_max_s: Type.Number({ minimum: 0, maximum: 600, default: 30 }),
    // Reconnect backoff: full jitter over min(reconnect_max_s, reconnect_min_s * 2^attempt).
    reconnect_min_s: Type.Number({ minimum: 0.05, maximum: 60, default: 1 }),
    reconnect_max_s: Type.Number({ minimum: 1, maximum: 300, default: 300 }),
    // QoS 1 messages the outbox keeps unacknowledged at once (mqtt.js never queues more).
    inflight_window: Type.Integer({ minimum: 1, maximum: 1000, default: 32 }),
  },
  { additionalProperties: false },
);

export type MqttConfig = Static<typeof MqttConfigSchema>;
