import type { IClientOptions } from 'mqtt';

/**
 * The connect options a broker URL (`mqtt://`, `mqtts://`) stands for, read with the WHATWG
 * URL parser. Every mqtt.connect() in the product takes these instead of the URL string:
 * mqtt.js reads a string with the legacy url.parse(), and Node 24 writes a deprecation warning
 * (DEP0169) to stderr for that call from any file outside node_modules, which mqtt.js is once
 * bundled into dist/. Options given beside the URL win, as with mqtt.connect(url, options).
 * Credentials in the URL are decoded, as url.parse() did; an IPv6 host loses its brackets.
 */
export function brokerOptions(url: string, options: IClientOptions = {}): IClientOptions {
  const u = new URL(url);
  const protocol = u.protocol.replace(/:$/, '') as NonNullable<IClientOptions['protocol']>;
  const fromUrl: IClientOptions = { protocol, host: u.hostname.replace(/^\[(.*)\]$/, '$1') };
  if (u.port !== '') fromUrl.port = Number(u.port);
  if (u.username !== '') fromUrl.username = decoded(u.username);
  if (u.password !== '') fromUrl.password = decoded(u.password);
  // A path means something only to a WebSocket broker (mqtt.js drops it for TCP and TLS).
  if (protocol.startsWith('ws')) fromUrl.path = `${u.pathname}${u.search}`;
  return { ...fromUrl, ...options };
}

/** Percent-decoded, or as written when it is not valid percent-encoding (`%E0`). */
function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Why a broker URL cannot be connected to as written, or null. check-config refuses such a URL
 * (brokerUrlRefinement): the schema's pattern alone let `mqtt://exa mple` and a port above
 * 65535 through, which brokerOptions() cannot read.
 */
export function brokerUrlProblem(url: string): string | null {
  let host: string | undefined;
  try {
    host = brokerOptions(url).host;
  } catch {
    return 'not a broker URL a client can read (a space, a port above 65535, a stray character?)';
  }
  return host ? null : 'the URL names no broker host';
}
