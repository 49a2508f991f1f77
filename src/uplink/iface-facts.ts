import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isIfaceName } from './iface-counters.js';

const RTF_UP = 0x0001;
const RTF_REJECT = 0x0200;

/** What the kernel says of an interface, from sysfs alone. */
export interface IfaceFacts {
  operstate: string | null;
  /** Link speed in Mbit/s; null when the driver does not say (down, virtual, WiFi). */
  speed_mbps: number | null;
  wireless: boolean;
}

type Route = { iface: string; metric: number };
type Row = { iface: string; isDefault: boolean; flags: string; metric: number };

/** The routes of a table that are default, up and not rejecting, one row picked per line. */
function defaultRoutes(text: string, row: (f: string[]) => Row | null): Route[] {
  const out: Route[] = [];
  for (const line of text.split('\n')) {
    const r = row(line.trim().split(/\s+/));
    const fl = r ? Number.parseInt(r.flags, 16) : 0;
    if (r?.isDefault && fl & RTF_UP && !(fl & RTF_REJECT) && r.iface !== 'lo')
      out.push({ iface: r.iface, metric: r.metric });
  }
  return out;
}

/** Default routes of an IPv4 routing table (`/proc/net/route`: hex fields, one route a line). */
export function defaultRoutes4(text: string): Route[] {
  // Iface Destination Gateway Flags RefCnt Use Metric Mask …; the header line is no default
  return defaultRoutes(text, (f) =>
    f.length < 8
      ? null
      : {
          iface: f[0] as string,
          isDefault: f[1] === '00000000' && f[7] === '00000000',
          flags: f[3] as string,
          metric: Number.parseInt(f[6] as string, 10),
        },
  );
}

/** Default routes of an IPv6 routing table (`/proc/net/ipv6_route`: the interface is last). */
export function defaultRoutes6(text: string): Route[] {
  // dest dest_len src src_len next_hop metric refcnt use flags iface
  return defaultRoutes(text, (f) =>
    f.length < 10
      ? null
      : {
          iface: f[9] as string,
          isDefault: /^0{32}$/.test(f[0] as string) && f[1] === '00',
          flags: f[8] as string,
          metric: Number.parseInt(f[5] as string, 16),
        },
  );
}

/**
 * The interface of the default route with the lowest metric (IPv4 first, then IPv6), as
 * `ip route show default` lists it first; null when the box has no default route (the
 * uplink is down at the router, or the DHCP lease is gone). Reads the kernel's tables in
 * /proc/net: systeminformation asked a shell for the same, a process each hour.
 */
export function defaultInterface(procNet = '/proc/net'): string | null {
  const read = (file: string) => {
    try {
      return readFileSync(join(procNet, file), 'utf8');
    } catch {
      return '';
    }
  };
  for (const routes of [defaultRoutes4(read('route')), defaultRoutes6(read('ipv6_route'))]) {
    const best = routes.filter((r) => isIfaceName(r.iface)).sort((a, b) => a.metric - b.metric)[0];
    if (best) return best.iface;
  }
  return null;
}

/** operstate, speed and kind of an interface from /sys/class/net; null when it is gone. */
export function readIfaceFacts(name: string, root = '/sys/class/net'): IfaceFacts | null {
  if (!isIfaceName(name)) return null;
  const dir = join(root, name);
  if (!existsSync(dir)) return null;
  const read = (file: string): string | null => {
    try {
      return readFileSync(join(dir, file), 'utf8').trim() || null;
    } catch {
      // speed answers EINVAL while the link is down and on virtual interfaces
      return null;
    }
  };
  const speed = Number(read('speed'));
  return {
    operstate: read('operstate'),
    speed_mbps: Number.isInteger(speed) && speed > 0 ? speed : null,
    wireless: existsSync(join(dir, 'wireless')) || existsSync(join(dir, 'phy80211')),
  };
}
