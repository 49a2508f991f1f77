import type { IPublishPacket, MqttClient } from 'mqtt';
import type { CommandRegistry, CommandReply } from './commands.js';
import type { Topics } from './topics.js';

const MAX_CONCURRENT_COMMANDS = 4;

/**
 * Answers `{root}/cmd/{name}` requests: on the MQTT 5 response topic with the request's
 * correlation data when given, else on `{root}/cmd/{name}/reply`. At most a few run at once;
 * the rest are told "busy" (with their id) rather than queued.
 *
 * A response topic inside `{prefix}/+/` other than our own `{root}/cmd/{name}/reply` subtree
 * (another village's topics, our own data topics or request topics) is refused: the command
 * does not run and the error goes to the default reply topic.
 *
 * A retained request is never run from the broker's retained store: it arrives with the
 * RETAIN flag only when our subscription is (re)made, i.e. after every reconnect and restart,
 * whereas a request published while we are subscribed arrives once with the flag cleared and
 * runs then. So no durable id store is needed to run each request once.
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
    if (packet.retain) {
      this.registry.refuse(this.registry.requestId(payload), name, 'malformed', 'retained request ignored');
      return;
    }
    const props = packet.properties;
    const asked = props?.responseTopic;
    const allowed = asked === undefined || this.replyTopicAllowed(asked);
    const to = asked !== undefined && allowed ? asked : this.topics.cmdReply(name.slice(0, 64));
    const opts = props?.correlationData
      ? { qos: 1 as const, properties: { correlationData: props.correlationData } }
      : { qos: 1 as const };
    // Further replies (an operation's work that outlives its first answer) go the same way, on
    // whichever session is live then, and never before the first: the regency takes the first
    // correlated reply as the answer.
    let answered = false;
    const channel = {
      topic: to,
      ...(props?.correlationData ? { correlation: props.correlationData } : {}),
      publish: (r: CommandReply): boolean => {
        const live = current();
        if (!live || !answered) return false;
        live.publish(to, JSON.stringify(r), opts);
        return true;
      },
    };
    let reply: CommandReply;
    if (!allowed) {
      reply = this.registry.refuse(
        this.registry.requestId(payload),
        name,
        'bad_response_topic',
        "response topic must be outside {prefix}/+/ or under this gateway's {root}/cmd/{name}/reply",
      );
    } else if (this.running >= MAX_CONCURRENT_COMMANDS) {
      reply = this.registry.refuse(
        this.registry.requestId(payload),
        name,
        'busy',
        'busy: too many commands at once',
      );
    } else {
      this.running++;
      try {
        reply = await this.registry.handle(name, payload, channel);
      } finally {
        this.running--;
      }
    }
    // Dropped with its session, the first answer never went: later replies must not stand in
    // for it (the outcome of long work still arrives as a durable event).
    if (client === current()) {
      client.publish(to, JSON.stringify(reply), opts);
      answered = true;
    }
  }

  /** No wildcards, no `$` system topics; inside `{prefix}/+/` only our own reply subtree. */
  private replyTopicAllowed(t: string): boolean {
    if (t.length === 0 || t.length > 256 || /[#+]/.test(t) || t.includes(String.fromCharCode(0)))
      return false;
    if (t.startsWith('$')) return false;
    const inVillages =
      t.startsWith(`${this.topics.prefix}/`) && t.slice(this.topics.prefix.length + 1).includes('/');
    if (!inVillages) return true;
    const own = `${this.topics.root}/cmd/`;
    return t.startsWith(own) && /^[^/]+\/reply(\/.*)?$/.test(t.slice(own.length));
  }
}
