/** Topic names of SPEC "MQTT", all under `{topic_prefix}/{gateway.id}`. */
export type MessageClass = 'health' | 'usage' | 'event' | 'outage';

/** Shedding order: lower ranks go first when the outbox is full (health, then usage, then the rest). */
export const CLASS_RANK: Record<MessageClass, number> = { health: 0, usage: 1, event: 2, outage: 2 };
export const CLASSES: readonly MessageClass[] = ['health', 'usage', 'event', 'outage'];

export class Topics {
  readonly prefix: string;
  readonly root: string;

  constructor(prefix: string, gatewayId: string) {
    this.prefix = prefix;
    this.root = `${prefix}/${gatewayId}`;
  }

  get status(): string {
    return `${this.root}/status`;
  }
  get link(): string {
    return `${this.root}/link`;
  }
  device(id: string): string {
    return `${this.root}/device/${id}`;
  }
  forClass(cls: MessageClass): string {
    return `${this.root}/${cls}`;
  }
  get cmdFilter(): string {
    return `${this.root}/cmd/+`;
  }
  /** The command name if `topic` is a request topic `{root}/cmd/{name}`, else undefined. */
  commandName(topic: string): string | undefined {
    const pre = `${this.root}/cmd/`;
    if (!topic.startsWith(pre)) return undefined;
    const name = topic.slice(pre.length);
    return name.length > 0 && !name.includes('/') ? name : undefined;
  }
  cmdReply(name: string): string {
    return `${this.root}/cmd/${name}/reply`;
  }
}

/** What a topic under `{prefix}/{gw}/` carries (SPEC "MQTT"); `command`/`reply` are the cmd/ tree. */
export type TopicKind = 'status' | 'link' | 'device' | MessageClass | 'command' | 'reply';

export interface ParsedTopic {
  gw: string;
  kind: TopicKind;
  /** `device/{id}`: the device id. */
  deviceId?: string;
  /** `cmd/{name}` and `cmd/{name}/reply`: the command name. */
  command?: string;
}

const ONE_LEVEL = /^[^/#+]+$/;

/**
 * The inverse of `Topics`: `{prefix}/{gw}/…` → its parts, or undefined for a topic the
 * contract does not define. The gateway id is not checked here (the envelope schema does).
 */
export function parseTopic(prefix: string, topic: string): ParsedTopic | undefined {
  if (!topic.startsWith(`${prefix}/`)) return undefined;
  const parts = topic.slice(prefix.length + 1).split('/');
  const [gw, first, second, third] = parts;
  if (!gw || !ONE_LEVEL.test(gw) || !first) return undefined;
  if (parts.length === 2) {
    if (first === 'status' || first === 'link') return { gw, kind: first };
    if ((CLASSES as readonly string[]).includes(first)) return { gw, kind: first as MessageClass };
    return undefined;
  }
  if (first === 'device' && parts.length === 3 && second && ONE_LEVEL.test(second))
    return { gw, kind: 'device', deviceId: second };
  if (first === 'cmd' && second && ONE_LEVEL.test(second)) {
    if (parts.length === 3) return { gw, kind: 'command', command: second };
    if (parts.length === 4 && third === 'reply') return { gw, kind: 'reply', command: second };
  }
  return undefined;
}
