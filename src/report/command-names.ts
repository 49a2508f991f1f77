/**
 * The commands the regency may send a village (SPEC "MQTT" cmd/{name}), named once: the
 * gateway's operations take their MQTT names from here (`remoteCommand`) and the regency's
 * command route allows exactly this list, so the sender and the answerer cannot drift apart.
 * `resend` (gap repair) is the collector's own and is not offered to people.
 */
export const REMOTE_COMMANDS = [
  'ping',
  'diagnose',
  'refresh-cache',
  'flush-outbox',
  'get-config',
  'set-log-level',
] as const;

export type RemoteCommand = (typeof REMOTE_COMMANDS)[number];

/** A command name that must be in the list (checked by the compiler). */
export function remoteCommand<N extends RemoteCommand>(name: N): N {
  return name;
}

export function isRemoteCommand(name: string): name is RemoteCommand {
  return (REMOTE_COMMANDS as readonly string[]).includes(name);
}
