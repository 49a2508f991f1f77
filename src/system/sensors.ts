import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { findOnPath } from '../core/find-on-path.js';
import { parseThermalMilli, pickCpuZone } from './readings.js';
import { parseThrottledSysfs, parseVcgencmd, type Throttling } from './throttled.js';

export const THROTTLED_SYSFS = '/sys/devices/platform/soc/soc:firmware/get_throttled';

export async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

/** CPU temperature from the kernel's thermal zones (what the Pi firmware exposes too). */
export async function readThermalZones(root = '/sys/class/thermal'): Promise<number | null> {
  let names: string[];
  try {
    names = (await readdir(root)).filter((n) => n.startsWith('thermal_zone'));
  } catch {
    return null;
  }
  const zones = await Promise.all(
    names.map(async (n) => ({
      type: (await readText(join(root, n, 'type')))?.trim() ?? '',
      temp_c: parseThermalMilli(await readText(join(root, n, 'temp'))),
    })),
  );
  return pickCpuZone(zones);
}

export type ThrottlingSource = { kind: 'sysfs'; path: string } | { kind: 'vcgencmd'; path: string } | null;

/** Decided once at start: boxes that are not Pis never spawn anything for this. */
export async function detectThrottlingSource(): Promise<ThrottlingSource> {
  if ((await readText(THROTTLED_SYSFS)) !== null) return { kind: 'sysfs', path: THROTTLED_SYSFS };
  const extra = ['/usr/bin', '/opt/vc/bin'].join(delimiter);
  const vc = await findOnPath('vcgencmd', `${process.env.PATH ?? ''}${delimiter}${extra}`);
  return vc ? { kind: 'vcgencmd', path: vc } : null;
}

export async function readThrottling(
  source: ThrottlingSource,
  signal?: AbortSignal,
): Promise<Throttling | null> {
  if (!source) return null;
  if (source.kind === 'sysfs') {
    const text = await readText(source.path);
    return text === null ? null : parseThrottledSysfs(text);
  }
  return new Promise((resolve) => {
    execFile(source.path, ['get_throttled'], { timeout: 2000, signal }, (err, stdout) => {
      resolve(err ? null : parseVcgencmd(stdout));
    });
  });
}
