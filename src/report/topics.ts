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
