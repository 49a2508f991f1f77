import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN_JS, TestDaemon } from '../helpers/daemon.js';

const PASSWORD = 'kata-sandi-teknisi';

function cli(d: TestDaemon, args: string[], input?: string) {
  const r = spawnSync(process.execPath, [MAIN_JS, ...args, '--config', d.configPath], {
    input: input ?? '',
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function call(
  d: TestDaemon,
  method: string,
  path: string,
  opts: { cookie?: string; csrf?: string; body?: unknown } = {},
) {
  // A fresh connection per call: the CLI runs between calls can idle a kept-alive socket up to
  // the server's 5 s keep-alive timeout, and a reuse then races the server closing it.
  const headers: Record<string, string> = { origin: d.url, connection: 'close' };
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.csrf) headers['x-csrf-token'] = opts.csrf;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${d.url}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  const text = await res.text();
  return { status: res.status, cookie, json: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

describe('technician auth against the real daemon', () => {
  let d: TestDaemon;
  beforeAll(async () => {
    d = await TestDaemon.start();
  });
  afterAll(() => d.dispose());

  it('keeps the setup code out of the log; setup-code and status show it until the first account exists', async () => {
    const line = await d.waitForLog((l) => String(l.msg).startsWith('no technician account yet'));
    expect(line.level).toBe('warn');
    expect(line.file).toBe(join(d.dataDir, 'setup-code'));
    const code = await d.setupCode();
    expect(code).toMatch(/^[2-9A-Z]{5}-[2-9A-Z]{5}$/);
    // Not in any log line (journald is readable by the adm group), nor on a non-TTY stdout.
    expect(JSON.stringify(d.logs)).not.toContain(code);
    expect(statSync(join(d.dataDir, 'setup-code')).mode & 0o777).toBe(0o600);
    const shown = cli(d, ['setup-code']);
    expect(shown.code).toBe(0);
    expect(shown.out.trim()).toBe(code);
    expect(JSON.parse(cli(d, ['setup-code', '--json']).out)).toEqual({
      code,
      file: join(d.dataDir, 'setup-code'),
    });
    const status = cli(d, ['status']);
    expect(status.code).toBe(0);
    expect(status.out).toContain(code);
    expect(JSON.parse(cli(d, ['status', '--json']).out)).toMatchObject({ setup: { pending: true, code } });

    expect((await call(d, 'GET', '/api/v1/status')).status).toBe(401);
    const made = await call(d, 'POST', '/api/v1/setup', { body: { code, name: 'ana', password: PASSWORD } });
    expect(made.status).toBe(201);
    expect(made.cookie).toMatch(/^kgw_session=/);
    const s = await call(d, 'GET', '/api/v1/status', { cookie: made.cookie });
    expect(s.status).toBe(200);
    expect(s.json).toMatchObject({ gateway: { id: '3510170012' } });
    expect(cli(d, ['status']).out).not.toContain(code);
    expect(existsSync(join(d.dataDir, 'setup-code'))).toBe(false);
    const none = cli(d, ['setup-code']);
    expect(none.code).toBe(1);
    expect(none.err).toContain('GW_ERR_NO_SETUP_CODE');
  });

  it('user add / passwd / remove from the command line, password on stdin', async () => {
    expect(cli(d, ['user', 'add', 'budi'], `${PASSWORD}\n`).code).toBe(0);
    expect(cli(d, ['user', 'add', 'budi'], `${PASSWORD}\n`).code).toBe(1);
    expect(cli(d, ['user', 'add', 'x'], `${PASSWORD}\n`).code).toBe(1); // name too short
    expect(cli(d, ['user', 'add', 'citra'], 'short\n').code).toBe(1);
    expect(cli(d, ['user', 'frobnicate', 'budi']).code).toBe(2);

    const login = await call(d, 'POST', '/api/v1/session', { body: { name: 'budi', password: PASSWORD } });
    expect(login.status).toBe(200);
    expect((await call(d, 'GET', '/api/v1/status', { cookie: login.cookie })).status).toBe(200);

    expect(cli(d, ['user', 'passwd', 'budi'], 'a-new-password\n').code).toBe(0);
    // A changed password ends the account's sessions.
    expect((await call(d, 'GET', '/api/v1/status', { cookie: login.cookie })).status).toBe(401);
    expect(
      (await call(d, 'POST', '/api/v1/session', { body: { name: 'budi', password: PASSWORD } })).status,
    ).toBe(401);
    expect(
      (await call(d, 'POST', '/api/v1/session', { body: { name: 'budi', password: 'a-new-password' } }))
        .status,
    ).toBe(200);

    expect(cli(d, ['user', 'remove', 'budi']).code).toBe(0);
    expect(cli(d, ['user', 'remove', 'budi']).code).toBe(1);
    expect(
      (await call(d, 'POST', '/api/v1/session', { body: { name: 'budi', password: 'a-new-password' } }))
        .status,
    ).toBe(401);
    const audit = cli(d, ['status', '--json']);
    expect(audit.out).not.toContain(PASSWORD);
  });

  it('streams live status over SSE to a bounded number of clients', async () => {
    const login = await call(d, 'POST', '/api/v1/session', { body: { name: 'ana', password: PASSWORD } });
    const controllers: AbortController[] = [];
    const open = async () => {
      const c = new AbortController();
      controllers.push(c);
      return fetch(`${d.url}/api/v1/events`, { headers: { cookie: login.cookie! }, signal: c.signal });
    };
    try {
      const first = await open();
      expect(first.status).toBe(200);
      expect(first.headers.get('content-type')).toMatch(/text\/event-stream/);
      const reader = first.body!.getReader();
      let text = '';
      while (!text.includes('event: status')) text += new TextDecoder().decode((await reader.read()).value);
      const data = text.split('event: status\ndata: ')[1]!.split('\n')[0]!;
      expect(JSON.parse(data)).toMatchObject({ status: { gateway: { id: '3510170012' } } });
      for (let i = 1; i < 8; i++) expect((await open()).status).toBe(200);
      const ninth = await open();
      expect(ninth.status).toBe(503);
      expect(await ninth.json()).toMatchObject({ error: 'GW_ERR_TOO_MANY_CLIENTS' });
    } finally {
      for (const c of controllers) c.abort();
    }
    // Closed clients are released: a new one fits again.
    const deadline = Date.now() + 5000;
    let status = 0;
    while (Date.now() < deadline) {
      const c = new AbortController();
      const r = await fetch(`${d.url}/api/v1/events`, {
        headers: { cookie: login.cookie! },
        signal: c.signal,
      });
      status = r.status;
      c.abort();
      if (status === 200) break;
      await new Promise((r2) => setTimeout(r2, 100));
    }
    expect(status).toBe(200);
  });
});
