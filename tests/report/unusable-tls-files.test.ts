import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestDaemon } from '../helpers/daemon.js';
import { freePort } from '../helpers/net.js';

describe('mqtt with a readable but unusable TLS file', () => {
  let daemon: TestDaemon | undefined;
  afterEach(async () => {
    await daemon?.dispose();
    daemon = undefined;
  });

  // Before: mqtt.connect threw from the TLS context inside the scheduler's one-shot task
  // ("one-shot task failed"), no retry was armed and MQTT stayed down until a restart.
  it('keeps retrying on the backoff, says which files, and stops cleanly', async () => {
    const port = await freePort(); // nothing listens: no broker is needed to reach the TLS setup
    daemon = new TestDaemon({
      config: {
        mqtt: {
          url: `mqtts://127.0.0.1:${port}`,
          cert_file: './not-a-cert.pem',
          key_file: './not-a-cert.pem',
          connect_delay_max_s: 0,
          reconnect_min_s: 0.05,
          reconnect_max_s: 1,
        },
      },
    });
    writeFileSync(join(daemon.dir, 'not-a-cert.pem'), '-----BEGIN CERTIFICATE-----\nnot base64\n', {
      mode: 0o600,
    });
    await daemon.start();
    await daemon.waitForLog((l) => l.msg === 'mqtt: connecting' && l.attempt === 3, 15_000);
    expect(daemon.logs.some((l) => l.msg === 'one-shot task failed')).toBe(false);
    expect(daemon.logs.some((l) => String(l.msg).startsWith('mqtt: cannot use the TLS files'))).toBe(true);
    const stop = await daemon.stop();
    expect(stop.code).toBe(0);
    expect(daemon.logs.some((l) => l.level === 'fatal')).toBe(false);
  });
});
