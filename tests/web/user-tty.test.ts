import { spawn, spawnSync } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { MAIN_JS, TestDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/net.js';

const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
let d: TestDaemon | undefined;
afterAll(() => d?.dispose());

// `script` (util-linux) gives the command a real terminal, as a technician's SSH session would.
it.runIf(hasScript)('user add on a terminal prompts twice without echoing the password', async () => {
  d = new TestDaemon();
  const secret = 'tty-secret-4821';
  const cmd = `${process.execPath} ${MAIN_JS} user add tina --config ${d.configPath}`;
  const proc = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
  await waitFor(() => out.includes('password for tina'), 15_000);
  proc.stdin.write(`${secret}\r`);
  await waitFor(() => out.includes('repeat'), 5000);
  proc.stdin.write(`${secret}\r`);
  expect(await exited).toBe(0);
  expect(out).toContain('technician tina added');
  expect(out).not.toContain(secret);
  await d.start();
  const res = await fetch(`${d.url}/api/v1/session`, {
    method: 'POST',
    headers: { origin: d.url, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'tina', password: secret }),
  });
  expect(res.status).toBe(200);
});
