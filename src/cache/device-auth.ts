/**
 * Who is calling /svc: the device id for a valid bearer token, else undefined. The devices
 * module's DeviceAuth implements it (tokens from devices[].token_file).
 */
export interface DeviceAuth {
  authenticate(authorizationHeader: string | undefined): string | undefined;
}
