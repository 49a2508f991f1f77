/**
 * Who is calling /svc and /api/v1/outbound: the devices module's DeviceAuth implements it
 * (tokens from devices[].token_file, failures throttled per source address).
 */
export interface DeviceAuth {
  /** True when `source` guessed too many tokens: answer 429 without looking at this one. */
  blocked(source: string): boolean;
  /** The device id for a valid bearer token, else undefined (a failure counted for `source`). */
  authenticate(authorizationHeader: string | undefined, source: string): string | undefined;
}
