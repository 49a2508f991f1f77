// The caches under test, each started on a free port with its own configuration in a temp dir,
// as a reverse proxy in front of the run's origin: the gateway's built daemon (`/svc/conf/...`),
// Squid (accelerator), Apache httpd (mod_proxy + mod_cache + mod_cache_disk) and Varnish (its
// built-in VCL). Installed from Debian: apt-get install -y --no-install-recommends squid apache2 varnish
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOKEN = 'conformance-token-0123456789';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, proc, what) {
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`${what} exited ${proc.exitCode}`);
    const ok = await new Promise((resolve) => {
      const s = new Socket();
      s.once('connect', () => resolve(s.destroy() || true));
      s.once('error', () => resolve(false));
      s.connect(port, '127.0.0.1');
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`${what} did not open port ${port}`);
}

function version(cmd, args, re) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return re.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`)?.[1] ?? null;
}

/** Spawns a server, waits for its port; stop() kills that one process and removes its dir. */
async function launch(name, dir, port, cmd, args, base, headers = {}) {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
  let stderr = '';
  proc.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  try {
    await waitForPort(port, proc, name);
  } catch (e) {
    proc.kill('SIGKILL');
    throw new Error(`${e.message}\n${stderr}`);
  }
  return {
    base,
    headers,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await Promise.race([new Promise((r) => proc.once('exit', r)), sleep(5000)]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function tempDir(name) {
  const dir = mkdtempSync(join(tmpdir(), `kgw-conf-${name}-`));
  chmodSync(dir, 0o777); // the servers drop root for their own users
  return dir;
}

export const TARGETS = {
  gateway: {
    version: () => JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version,
    async start(origin) {
      const dir = tempDir('gateway');
      const port = await freePort();
      writeFileSync(join(dir, 'kiosk.token'), TOKEN);
      writeFileSync(
        join(dir, 'config.yaml'),
        stringify({
          gateway: { id: '3510170012', name: 'conformance' },
          data_dir: join(dir, 'data'),
          log_level: 'error',
          http: { listen: `127.0.0.1:${port}`, metrics: false },
          uplink: { probes: [] },
          devices: [{ id: 'adm-1', name: 'Kiosk', kind: 'kiosk', token_file: join(dir, 'kiosk.token') }],
          cache: {
            max_mb: 64,
            upstreams: [{ name: 'conf', base_url: `http://127.0.0.1:${origin.port}`, timeout_ms: 2000 }],
          },
        }),
      );
      const args = [join(ROOT, 'dist', 'main.js'), 'run', '--config', join(dir, 'config.yaml')];
      return launch('gateway', dir, port, process.execPath, args, `http://127.0.0.1:${port}/svc/conf`, {
        authorization: `Bearer ${TOKEN}`,
      });
    },
  },
  squid: {
    version: () => version('squid', ['-v'], /Version (\S+)/),
    async start(origin) {
      const dir = tempDir('squid');
      const port = await freePort();
      const conf = [
        `http_port 127.0.0.1:${port} accel defaultsite=127.0.0.1:${origin.port} no-vhost`,
        `cache_peer 127.0.0.1 parent ${origin.port} 0 no-query originserver name=origin`,
        'cache_peer_access origin allow all',
        'http_access allow all',
        'cache_mem 64 MB',
        `pid_filename ${dir}/squid.pid`,
        `cache_log ${dir}/cache.log`,
        'access_log none',
        'cache_store_log none',
        `coredump_dir ${dir}`,
        'visible_hostname squid-conformance',
        'shutdown_lifetime 0 seconds',
      ];
      writeFileSync(join(dir, 'squid.conf'), `${conf.join('\n')}\n`);
      return launch(
        'squid',
        dir,
        port,
        'squid',
        ['-N', '-f', join(dir, 'squid.conf')],
        `http://127.0.0.1:${port}`,
      );
    },
  },
  apache: {
    version: () => version('apache2', ['-v'], /Apache\/(\S+)/),
    async start(origin) {
      const dir = tempDir('apache');
      const port = await freePort();
      mkdirSync(join(dir, 'cache'), { mode: 0o777 });
      chmodSync(join(dir, 'cache'), 0o777);
      const mods = ['mpm_event', 'authz_core', 'proxy', 'proxy_http', 'cache', 'cache_disk'];
      const upstream = `http://127.0.0.1:${origin.port}/`;
      const conf = [
        ...mods.map((m) => `LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so`),
        `Listen 127.0.0.1:${port}`,
        'ServerName localhost',
        `DefaultRuntimeDir ${dir}`,
        `PidFile ${dir}/httpd.pid`,
        `ErrorLog ${dir}/error.log`,
        'LogLevel warn',
        'User www-data',
        'Group www-data',
        `CacheRoot ${dir}/cache`,
        'CacheEnable disk /',
        // Via on requests is a MUST for a gateway (RFC 9110 7.6.3); httpd leaves it off unless asked.
        'ProxyVia On',
        `ProxyPass / ${upstream}`,
        `ProxyPassReverse / ${upstream}`,
      ];
      writeFileSync(join(dir, 'httpd.conf'), `${conf.join('\n')}\n`);
      const args = ['-f', join(dir, 'httpd.conf'), '-DFOREGROUND'];
      return launch('apache', dir, port, 'apache2', args, `http://127.0.0.1:${port}`);
    },
  },
  varnish: {
    version: () => version('varnishd', ['-V'], /varnish-(\S+)/),
    async start(origin) {
      const dir = tempDir('varnish');
      const port = await freePort();
      // The built-in VCL does the caching; this file only names the backend.
      const vcl = `vcl 4.1;\nbackend origin { .host = "127.0.0.1"; .port = "${origin.port}"; }\n`;
      writeFileSync(join(dir, 'default.vcl'), vcl);
      const args = [
        '-F',
        '-j',
        'none',
        '-n',
        join(dir, 'work'),
        '-a',
        `127.0.0.1:${port}`,
        '-f',
        join(dir, 'default.vcl'),
        '-s',
        'malloc,64m',
      ];
      return launch('varnish', dir, port, 'varnishd', args, `http://127.0.0.1:${port}`);
    },
  },
};
