import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface IfaceCounters {
  operstate: string | null;
  rx_bytes: number;
  tx_bytes: number;
}

const NAME = /^[A-Za-z0-9_.:@-]{1,15}$/;

/** A name the kernel could give an interface (used as a path under /sys: never `..`). */
export function isIfaceName(name: string): boolean {
  return NAME.test(name) && name !== '.' && name !== '..';
}

/**
 * An interface's byte counters and operstate, read straight from sysfs (the kernel's own
 * numbers). systeminformation's networkStats reads the same files through a shell and one
 * `cat` per file, eight processes per reading; at one reading every 30 s that was most of
 * the interface monitor's cost. Returns null when the interface is gone (unplugged USB
 * modem, renamed) or the name is not an interface name.
 */
export function readIfaceCounters(name: string, root = '/sys/class/net'): IfaceCounters | null {
  if (!isIfaceName(name)) return null;
  const dir = join(root, name);
  const read = (file: string) => readFileSync(join(dir, file), 'utf8').trim();
  try {
    const rx = Number(read('statistics/rx_bytes'));
    const tx = Number(read('statistics/tx_bytes'));
    if (!Number.isFinite(rx) || !Number.isFinite(tx)) return null;
    let operstate: string | null = null;
    try {
      operstate = read('operstate') || null;
    } catch {
      // some virtual interfaces have no operstate file
    }
    return { operstate, rx_bytes: rx, tx_bytes: tx };
  } catch {
    return null;
  }
}
