import { Type } from '@sinclair/typebox';

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
    connect_delay_max_s: Type.Number({ minimum: 0, maximum: 600, default: 30 }),
  },
  { additionalProperties: false },
);
