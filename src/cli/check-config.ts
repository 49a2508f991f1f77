import { readFileSync } from 'node:fs';
import { formatIssues } from '../config/issues.js';
import { resolveConfigPath, validateConfigText } from '../config/loader.js';
import type { CommonArgs } from './args.js';
import type { CliIo } from './io.js';

export async function checkConfigCommand(args: CommonArgs, io: CliIo): Promise<number> {
  const file = resolveConfigPath(args.config, io.env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    io.err(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return 1;
  }
  const validated = validateConfigText(text, file);
  // Insecure settings fail here even though the daemon would start (it warns): the installer
  // is the one who can fix them.
  const result =
    validated.ok && validated.advisories.length > 0
      ? { ok: false as const, issues: validated.advisories }
      : validated;
  if (args.json) {
    io.out(JSON.stringify(result.ok ? { ok: true, file } : { ok: false, file, issues: result.issues }));
    return result.ok ? 0 : 1;
  }
  if (!result.ok) {
    io.err(formatIssues(file, result.issues));
    return 1;
  }
  const c = result.config;
  io.out(
    `${file}: OK — ${c.gateway.id} ${c.gateway.name}; ${c.uplink.probes.length} uplink probes, ` +
      `${c.devices.length} devices, ${c.cache.upstreams.length} cache upstreams, mqtt ${c.mqtt ? 'on' : 'off'}`,
  );
  return 0;
}
