import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wibDay } from '../../src/core/wib.js';
import type { AvailabilityReport } from '../../src/regency/reports/availability.js';
import { TestDaemon } from '../helpers/daemon.js';
import { TestBroker } from '../helpers/mosquitto.js';
import { freePort, sleep, waitFor } from '../helpers/net.js';
import { NetnsLab } from '../helpers/netns.js';
import { tempDir } from '../helpers/tmp.js';
import { RegencyDaemon, regencyConfig, TestStore } from './helpers.js';

/*
 * The first proof, end to end with real parts:
 *   gw ──(10.73.1.0/24)── router ──(10.73.2.0/24)── isp        (the uplink the probes watch)
 *   gw ──(10.73.7.0/30)── root namespace: Mosquitto + the regency collector (the report path)
 * The ISP hop is cut inside `router`; the gateway records the outage in its own ledger and
 * reports it; the regency's availability report must show the same duration and fault layer.
 * The report path stays up during the cut so the test does not also wait for the backlog.
 */
const GW = '3510170012';
const SLACK_MIN = 1 / 60; // a report shows minutes to 0.1; the gateway's ledger is exact

describe.skipIf(!NetnsLab.available())(
  'gateway outage → regency availability report (netns, real daemons)',
  () => {
    const lab = new NetnsLab('rgx');
    const tmp = tempDir('kgw-regency-e2e-');
    let broker: TestBroker;
    const store = new TestStore('sqlite', tmp.path);
    let regency: RegencyDaemon;
    let gateway: TestDaemon;
    let wanDev = '';

    beforeAll(async () => {
      lab.create('gw');
      lab.create('router');
      lab.create('isp');
      lab.veth('gw', 'router', '10.73.1.2/24', '10.73.1.1/24', 'l');
      wanDev = lab.veth('router', 'isp', '10.73.2.1/24', '10.73.2.2/24', 'w').a;
      lab.veth(null, 'gw', '10.73.7.1/30', '10.73.7.2/30', 'm');
      lab.exec('router', 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
      lab.exec('gw', 'ip', ['route', 'add', 'default', 'via', '10.73.1.1']);
      lab.exec('isp', 'ip', ['route', 'add', '10.73.1.0/24', 'via', '10.73.2.1']);
      const port = await freePort();
      broker = new TestBroker({ extraConfig: [`listener ${port} 10.73.7.1`] });
      await broker.start();
      await store.create();
      regency = new RegencyDaemon(`${tmp.path}/regency`, regencyConfig(store, broker.url));
      await regency.start();
      await regency.login();
      gateway = new TestDaemon({
        dir: `${tmp.path}/gw`,
        netns: lab.ns('gw'),
        waitHealthy: false,
        config: {
          uplink: {
            probes: [
              { name: 'router', layer: 'lan', type: 'icmp', host: '10.73.1.1' },
              { name: 'ont', layer: 'isp', type: 'icmp', host: '10.73.2.2' },
            ],
          },
          mqtt: {
            url: `mqtt://10.73.7.1:${port}`,
            connect_delay_max_s: 0,
            reconnect_min_s: 0.1,
            reconnect_max_s: 1,
          },
        },
      });
      await gateway.start();
      await gateway.waitForLog((l) => l.msg === 'mqtt: connected', 15_000);
      await gateway.waitForLog((l) => l.msg === 'link verdict changed' && l.verdict === 'up', 10_000);
    }, 40_000);

    afterAll(async () => {
      await gateway?.stop('SIGTERM');
      await gateway?.dispose();
      await regency?.kill();
      await broker?.dispose();
      lab.destroy();
      await store.drop();
      tmp.cleanup();
    });

    const ledger = () => {
      const db = new Database(join(gateway.dataDir, 'gateway.db'), { readonly: true, fileMustExist: true });
      try {
        return db
          .prepare(
            'SELECT start_wall, end_wall, duration_ms, fault_layer FROM uplink_outages WHERE end_wall IS NOT NULL',
          )
          .all() as Array<{ start_wall: number; end_wall: number; duration_ms: number; fault_layer: string }>;
      } finally {
        db.close();
      }
    };

    it('the outage the gateway records appears in the report with the same duration and fault layer', async () => {
      lab.setLink('router', wanDev, false);
      await gateway.waitForLog((l) => l.msg === 'link verdict changed' && l.verdict === 'down', 10_000);
      await sleep(6000);
      lab.setLink('router', wanDev, true);
      const [o] = await waitFor(() => (ledger().length > 0 ? ledger() : undefined), 15_000);
      expect(o?.fault_layer).toBe('isp');
      if (!o) return;
      // The WIB month(s) the outage lies in, from its own times (never today's date).
      const months = [...new Set([wibDay(o.start_wall), wibDay(o.end_wall)].map((d) => d.slice(0, 7)))];
      const reported = async () => {
        let isp = 0;
        let outages = 0;
        for (const m of months) {
          const r = (await regency.http<AvailabilityReport>(`/api/v1/reports/availability?month=${m}`)).body;
          const v = r.villages.find((x) => x.code === GW);
          isp += v?.down_min.isp ?? 0;
          outages += v?.outages ?? 0;
        }
        return { isp, outages };
      };
      const r = await waitFor(async () => {
        const x = await reported();
        return x.outages > 0 ? x : undefined;
      }, 15_000);
      const gatewayMin = o.duration_ms / 60_000;
      expect(r.outages).toBe(months.length);
      expect(Math.abs(r.isp - gatewayMin)).toBeLessThanOrEqual(0.05 + SLACK_MIN);
      process.stdout.write(
        `${JSON.stringify({ regency_e2e: { gateway_min: gatewayMin, report_min: r.isp } })}\n`,
      );
    }, 40_000);
  },
);
