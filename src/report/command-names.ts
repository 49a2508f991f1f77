/**
 * The commands the regency may send a village (SPEC "MQTT" cmd/{name}), named once: the
 * gateway's operations take their MQTT names from here (`remoteCommand`) and the regency's
 * senders allow exactly this list, so the sender and the answerer cannot drift apart.
 */
export const REMOTE_COMMANDS = [
  'ping',
  'diagnose',
  'refresh-cache',
  'flush-outbox',
  'get-config',
  'set-log-level',
  'resend',
  'upgrade',
] as const;

export type RemoteCommand = (typeof REMOTE_COMMANDS)[number];

/**
 * `resend` (gap repair) is the collector's own: its repair loop asks for exactly the seqs the
 * ledger misses and records the answer; it is not offered to people on the command route.
 */
export const COLLECTOR_COMMANDS: readonly RemoteCommand[] = ['resend'];

/** The commands a person may send from the regency's page or API. */
export const OPERATOR_COMMANDS: readonly RemoteCommand[] = REMOTE_COMMANDS.filter(
  (n) => !COLLECTOR_COMMANDS.includes(n),
);

/** A command name that must be in the list (checked by the compiler). */
export function remoteCommand<N extends RemoteCommand>(name: N): N {
  return name;
}

export function isRemoteCommand(name: string): name is RemoteCommand {
  return (REMOTE_COMMANDS as readonly string[]).includes(name);
}

export function isOperatorCommand(name: string): name is RemoteCommand {
  return (OPERATOR_COMMANDS as readonly string[]).includes(name);
}
