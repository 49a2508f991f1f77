import type { IPublishPacket, MqttClient } from 'mqtt';
import type { CommandRegistry, CommandReply } from './commands.js';
import type { Topics } from './topics.js';

const MAX_CONCURRENT_COMMANDS = 4;

/**
 * Answers `{root}/cmd/{name}` requests: on the MQTT 5 response topic with the request's
 * correlation data when given (and allowed), else on `{root}/cmd/{name}/reply`. At most a few
 * run at once; the rest are told "busy" rather than queued.
 */
export class CommandResponder {
  private readonly registry: CommandRegistry;
  private readonly topics: Topics;
  private running = 0;

  constructor(deps: { registry: CommandRegistry; topics: Topics }) {
    this.registry = deps.registry;
    this.topics = deps.topics;
  }

  /** `current()` is the live client when the reply is ready: none (disconnected) drops it. */
  async handle(
    client: MqttClient,
    current: () => MqttClient | undefined,
    topic: string,
    payload: Buffer,
    packet: IPublishPacket,
  ): Promise<void> {
    const name = this.topics.commandName(topic);
    if (name === undefined) return;
    let reply: CommandReply;
    if (this.running >= MAX_CONCURRENT_COMMANDS) {
      reply = { id: null, ok: false, error: { code: 'failed', message: 'busy: too many commands at once' } };
    } else {
      this.running++;
      try {
        reply = await this.registry.handle(name, payload);
      } finally {
        this.running--;
      }
    }
    const props = packet.properties;
    const asked = props?.responseTopic;
    const to = asked && this.replyTopicAllowed(asked) ? asked : this.topics.cmdReply(name.slice(0, 64));
    const opts = props?.correlationData
      ? { qos: 1 as const, properties: { correlationData: props.correlationData } }
      : { qos: 1 as const };
    if (client === current()) client.publish(to, JSON.stringify(reply), opts);
  }

  /** A response topic may not carry wildcards nor land on one of our own data topics. */
  private replyTopicAllowed(t: string): boolean {
    if (t.length > 256 || /[#+]/.test(t) || t.includes(String.fromCharCode(0))) return false;
    return !t.startsWith(`${this.topics.root}/`) || t.startsWith(`${this.topics.root}/cmd/`);
  }
}
