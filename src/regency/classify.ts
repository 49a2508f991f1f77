import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { PAYLOAD_SCHEMAS, type PayloadKind } from '../report/envelope-schema.js';
import { type MessageClass, parseTopic } from '../report/topics.js';
import { type HealthFacts, healthFacts } from './health-facts.js';

/** Larger than any message the gateway sends (a usage batch of 500 events is ~150 KiB). */
export const MAX_PAYLOAD_BYTES = 256 * 1024;
/** How much of a quarantined payload is kept: enough to see what it was. */
export const QUARANTINE_KEEP_BYTES = 4096;

export type QuarantineReason =
  | 'oversized'
  | 'malformed_json'
  | 'schema'
  | 'unknown_topic'
  | 'gw_mismatch'
  | 'store_error'
  /** From a village whose identity is revoked (a stale session, or a broker not reloaded yet). */
  | 'revoked';

type EnvelopeShape = Static<(typeof PAYLOAD_SCHEMAS)['health']>;
export type InboundEnvelope = Omit<EnvelopeShape, 'data'> & { data: unknown };

/** One received MQTT message, decided: stored, applied to state, ignored or quarantined. */
export type Inbound =
  | {
      t: 'envelope';
      gw: string;
      topic: string;
      kind: MessageClass;
      env: InboundEnvelope;
      /** The envelope's data as stored (JSON). */
      data: string;
      /** A health sample's facts, read once here (health-facts.ts). */
      health?: HealthFacts;
    }
  | {
      t: 'state';
      gw: string;
      topic: string;
      kind: 'status' | 'link' | 'device';
      deviceId?: string;
      /** null: the retained message was cleared (empty payload). */
      payload: Record<string, unknown> | null;
      retained: boolean;
    }
  | { t: 'ignore'; gw: string; kind: 'command' | 'reply' }
  | {
      t: 'quarantine';
      topic: string;
      reason: QuarantineReason;
      detail: string;
      size: number;
      payload: string;
    };

type Check = { Check(v: unknown): boolean; Errors(v: unknown): Iterable<{ path: string; message: string }> };
const CHECKS = Object.fromEntries(
  Object.entries(PAYLOAD_SCHEMAS).map(([k, s]) => [k, TypeCompiler.Compile(s as TSchema)]),
) as unknown as Record<PayloadKind, Check>;

/**
 * Validates one message against the contract the gateway publishes with (the shared
 * envelope schema and topic parser). Never throws: whatever does not fit is a quarantine.
 */
export function classify(prefix: string, topic: string, payload: Buffer, retained: boolean): Inbound {
  const quarantine = (reason: QuarantineReason, detail: string): Inbound => ({
    t: 'quarantine',
    topic: topic.slice(0, 512),
    reason,
    detail: detail.slice(0, 1000),
    size: payload.length,
    payload: payload.subarray(0, QUARANTINE_KEEP_BYTES).toString('utf8'),
  });
  const parsed = parseTopic(prefix, topic);
  if (!parsed) return quarantine('unknown_topic', 'not a topic of the reporting contract');
  const { gw, kind } = parsed;
  if (kind === 'command' || kind === 'reply') return { t: 'ignore', gw, kind };
  if (!/^[0-9]{10}$/.test(gw))
    return quarantine('unknown_topic', 'the gateway id in the topic is not a village code');
  if (payload.length > MAX_PAYLOAD_BYTES)
    return quarantine('oversized', `${payload.length} bytes > ${MAX_PAYLOAD_BYTES}`);
  const isState = kind === 'status' || kind === 'link' || kind === 'device';
  if (isState && payload.length === 0)
    return {
      t: 'state',
      gw,
      topic,
      kind,
      ...(parsed.deviceId ? { deviceId: parsed.deviceId } : {}),
      payload: null,
      retained,
    };
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return quarantine('malformed_json', (err as Error).message);
  }
  const check = CHECKS[kind];
  if (!check.Check(json)) {
    const errors = [...check.Errors(json)].slice(0, 3).map((e) => `${e.path || '/'}: ${e.message}`);
    return quarantine('schema', errors.join('; '));
  }
  if (isState) {
    const p = json as Record<string, unknown>;
    if (typeof p.gw === 'string' && p.gw !== gw) return quarantine('gw_mismatch', `payload gw ${p.gw}`);
    if (kind === 'device' && p.id !== parsed.deviceId)
      return quarantine('schema', 'device id differs from the topic');
    return {
      t: 'state',
      gw,
      topic,
      kind,
      ...(parsed.deviceId ? { deviceId: parsed.deviceId } : {}),
      payload: p,
      retained,
    };
  }
  const env = json as InboundEnvelope;
  if (env.gw !== gw) return quarantine('gw_mismatch', `envelope gw ${env.gw}`);
  const data = JSON.stringify(env.data);
  if (kind === 'health') return { t: 'envelope', gw, topic, kind, env, data, health: healthFacts(env.data) };
  return { t: 'envelope', gw, topic, kind: kind as MessageClass, env, data };
}

/**
 * A message already classified as good, quarantined after all (the store refused it, or its
 * village was revoked): its topic and payload kept as the collector received them.
 */
export function quarantineAfter(item: Inbound, reason: QuarantineReason, detail: string): Inbound {
  if (item.t === 'quarantine') return item;
  const payload =
    item.t === 'envelope' ? JSON.stringify(item.env) : item.t === 'state' ? JSON.stringify(item.payload) : '';
  return {
    t: 'quarantine',
    topic: item.t === 'ignore' ? `(${item.kind} from ${item.gw})` : item.topic.slice(0, 512),
    reason,
    detail: detail.slice(0, 1000),
    size: Buffer.byteLength(payload),
    payload: payload.slice(0, QUARANTINE_KEEP_BYTES),
  };
}
