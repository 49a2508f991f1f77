import { type ChildProcess, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LogLine, MAIN_JS, REPO_ROOT, TestDaemon } from '../helpers/daemon.js';
import { soakMs } from '../helpers/fuzz.js';
import { sleep, waitFor } from '../helpers/net.js';
import { NetnsLab } from '../helpers/netns.js';

/*
 * gw ──(10.61.1.0/24)── router ──(10.61.2.0/24)── isp [10.61.9.1 http/tcp, 10.61.9.53 dns]
 * The real daemon runs in `gw`; cuts are made by taking interfaces down in `router`.
 */
const DNS_JS = join(REPO_ROOT, 'tests/probes/fixtures/dns-responder.mjs');
const HTTP_JS = join(REPO_ROOT, 'tests/uplink/fixtures/http-server.mjs');
const DETECT_MS = 5000;
const SOAK_MS = soakMs(60_000);
// Timer noise on a 2-core box shared with other test files.
const SLACK_MS = 1000;

type Verdict = { verdict: string; fault_layer: string | null; at: number };

describe.skipIf(!NetnsLab.available())('uplink ladder on real namespaces (real daemon)', () => {
  const lab = new NetnsLab('up');
  let daemon: TestDaemon;
  let dns: ChildProcess | null = null;
  let lanDev = '';
  let wanDev = '';

  const startDns = async () => {
    dns = lab.spawn('isp', process.execPath, [DNS_JS, '10.61.9.53', '53']);
    await waitFor(() => {
      try {
        return lab.exec('isp', 'ss', ['-uln', 'sport = :53']).includes('10.61.9.53');
      } catch {
        return false;
      }
    }, 5000);
  };

  const verdicts = (): Verdict[] =>
    daemon.logs
      .filter((l: LogLine) => l.msg === 'link verdict changed')
      .map((l) => ({
        verdict: String(l.verdict),
        fault_layer: (l.fault_layer as string | null) ?? null,
        at: Date.parse(String(l.time)),
      }));

  /** Waits for a verdict change after `from` (ms) and returns it with its delay. */
  const expectVerdict = async (verdict: string, fault: string | null, from: number, within: number) => {
    const v = await waitFor(
      () => verdicts().find((x) => x.at >= from && x.verdict === verdict && x.fault_layer === fault),
      within + SLACK_MS,
    ).catch((err: unknown) => {
      throw new Error(
        `${String(err)}; seen: ${JSON.stringify(verdicts().filter((x) => x.at >= from - 10_000))}`,
      );
    });
    return v.at - from;
  };

  const outages = () => {
    const db = new Database(join(daemon.dataDir, 'gateway.db'), { readonly: true, fileMustExist: true });
    try {
      return db
        .prepare('SELECT fault_layer, duration_ms, end_wall FROM uplink_outages ORDER BY id')
        .all() as Array<{
        fault_layer: string;
        duration_ms: number | null;
        end_wall: number | null;
      }>;
    } finally {
      db.close();
    }
  };

  const iptables = (args: string[]) => lab.exec('router', 'iptables', args);
  /** The second hop; taking an interface down drops its routes, so repair puts the default back. */
  const setWan = (up: boolean) => {
    lab.setLink('router', wanDev, up);
    if (up) lab.exec('router', 'ip', ['route', 'replace', 'default', 'via', '10.61.2.2']);
  };
  const detections: number[] = [];

  beforeAll(async () => {
    lab.create('gw');
    lab.create('router');
    lab.create('isp');
    const lan = lab.veth('gw', 'router', '10.61.1.2/24', '10.61.1.1/24', 'l');
    const wan = lab.veth('router', 'isp', '10.61.2.1/24', '10.61.2.2/24', 'w');
    lanDev = lan.b;
    wanDev = wan.a;
    lab.exec('isp', 'ip', ['addr', 'add', '10.61.9.1/32', 'dev', 'lo']);
    lab.exec('isp', 'ip', ['addr', 'add', '10.61.9.53/32', 'dev', 'lo']);
    lab.exec('gw', 'ip', ['route', 'add', 'default', 'via', '10.61.1.1']);
    lab.exec('router', 'ip', ['route', 'add', 'default', 'via', '10.61.2.2']);
    lab.exec('router', 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    lab.exec('isp', 'ip', ['route', 'add', '10.61.1.0/24', 'via', '10.61.2.1']);
    lab.spawn('isp', process.execPath, [HTTP_JS, '10.61.9.1', '8080']);
    await startDns();
    daemon = new TestDaemon({
      netns: lab.ns('gw'),
      // The daemon's port is inside the namespace; the test reads its log and data dir.
      waitHealthy: false,
      config: {
        uplink: {
          probes: [
            { name: 'router', layer: 'lan', type: 'icmp', host: '10.61.1.1' },
            { name: 'ont', layer: 'isp', type: 'icmp', host: '10.61.2.2' },
            // 1 s here (default 10 s) so that a DNS failure is seen within the test's budget.
            {
              name: 'dns',
              layer: 'dns',
              type: 'dns',
              server: '10.61.9.53',
              query: 'banyuwangikab.go.id',
              interval_s: 1,
              timeout_ms: 500,
            },
            { name: 'anchor', layer: 'internet', type: 'tcp', host: '10.61.9.1', port: 8080 },
            {
              name: 'regency',
              layer: 'regency',
              type: 'http',
              url: 'http://10.61.9.1:8080/health',
              interval_s: 2,
              timeout_ms: 1000,
            },
          ],
        },
      },
    });
    await daemon.start();
    await daemon.waitForLog((l) => l.msg === 'kampung-gateway started', 10_000);
  }, 30_000);

  afterAll(async () => {
    // A clean stop closes the probes' fping processes before the namespaces go away.
    await daemon?.stop('SIGTERM');
    await daemon?.dispose();
    lab.destroy();
    // One JSON line for the report: detection delays measured in this run.
    process.stdout.write(`${JSON.stringify({ uplink_netns_detection_ms: detections })}\n`);
  });

  it('comes up with every layer up', async () => {
    await expectVerdict('up', null, 0, 8000);
    await waitFor(() => {
      const out = execFileSync(
        process.execPath,
        [MAIN_JS, 'status', '--json', '--config', daemon.configPath],
        { encoding: 'utf8' },
      );
      const link = JSON.parse(out).link;
      return ['lan', 'isp', 'dns', 'internet', 'regency'].every((l) => link.layers[l]?.state === 'up');
    }, 8000);
  }, 20_000);

  it('cutting the first hop gives down/lan, restoring gives up', async () => {
    const cut = Date.now();
    lab.setLink('router', lanDev, false);
    detections.push(await expectVerdict('down', 'lan', cut, DETECT_MS));
    const human = execFileSync(process.execPath, [MAIN_JS, 'status', '--config', daemon.configPath], {
      encoding: 'utf8',
    });
    expect(human).toMatch(/PUTUS/);
    expect(human).toMatch(/Router\/LAN putus/);
    await sleep(2000);
    const repair = Date.now();
    lab.setLink('router', lanDev, true);
    await expectVerdict('up', null, repair, 10_000);
    const last = outages().at(-1)!;
    expect(last.fault_layer).toBe('lan');
    expect(Math.abs(last.duration_ms! - (repair - cut))).toBeLessThan(2000);
  }, 30_000);

  it('cutting the second hop gives down/isp', async () => {
    const cut = Date.now();
    setWan(false);
    detections.push(await expectVerdict('down', 'isp', cut, DETECT_MS));
    await sleep(2000);
    const repair = Date.now();
    setWan(true);
    await expectVerdict('up', null, repair, 10_000);
    const last = outages().at(-1)!;
    expect(last.fault_layer).toBe('isp');
    expect(Math.abs(last.duration_ms! - (repair - cut))).toBeLessThan(2000);
  }, 30_000);

  it('stopping the DNS server gives down/dns', async () => {
    const cut = Date.now();
    dns?.kill('SIGKILL');
    detections.push(await expectVerdict('down', 'dns', cut, DETECT_MS));
    const repair = Date.now();
    await startDns();
    await expectVerdict('up', null, repair, 10_000);
    expect(outages().at(-1)?.fault_layer).toBe('dns');
    expect(outages().map((o) => o.fault_layer)).toEqual(['lan', 'isp', 'dns']);
  }, 30_000);

  it('a link flapping every ~2 s does not create one outage per flap', async () => {
    const before = outages().length;
    const start = Date.now();
    for (let i = 0; i < 5; i++) {
      setWan(false);
      await sleep(4500);
      setWan(true);
      await sleep(2000);
    }
    // Settled once the link is no longer down. "degraded" counts: the flaps' lost rounds stay in
    // the 120 s loss window unless a probe went fully down and back (which trims them), so on a
    // slow round the verdict rightly says degraded for up to two minutes (waiting for "up"
    // failed twice in a CI pass a year ahead). The claims are the two below.
    await waitFor(() => ['up', 'degraded'].includes(verdicts().at(-1)?.verdict ?? ''), 30_000);
    const added = outages().length - before;
    expect(added).toBeLessThanOrEqual(1);
    const downs = verdicts().filter((v) => v.at >= start && v.verdict === 'down');
    expect(downs.length).toBeLessThanOrEqual(2);
  }, 90_000);

  // One minute in `npm test` (`npm run fuzz`: ten); the other CI passes soak 20 s (tests/helpers/fuzz.ts).
  it(
    `2 % random loss for ${Math.round(SOAK_MS / 1000)} s gives no down; 100 % loss gives down within 5 s`,
    async () => {
      const start = Date.now();
      for (const chain of ['INPUT', 'FORWARD'])
        iptables(['-A', chain, '-m', 'statistic', '--mode', 'random', '--probability', '0.02', '-j', 'DROP']);
      await sleep(SOAK_MS);
      iptables(['-F']);
      expect(verdicts().filter((v) => v.at >= start && v.verdict === 'down')).toEqual([]);
      const cut = Date.now();
      for (const chain of ['INPUT', 'FORWARD']) iptables(['-A', chain, '-j', 'DROP']);
      detections.push(await expectVerdict('down', 'lan', cut, DETECT_MS));
      iptables(['-F']);
    },
    SOAK_MS + 30_000,
  );
});
