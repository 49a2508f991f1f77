import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfigText } from '../../src/config/loader.js';
import { PROBE_REGISTRY, PROBE_TYPES_BY_NAME } from '../../src/probes/registry.js';
import {
  intervalMsOf,
  oneRunMsOf,
  PROBE_TYPES,
  ProbeSpecSchema,
  probeDetail,
  timeoutOf,
} from '../../src/probes/spec-schema.js';

const CONFIG = (probes: string) => `
gateway: { id: "3510170012", name: "Desa Kemiren" }
data_dir: /tmp/kgw-never-written
uplink:
  probes:
${probes}
`;

describe('the spec schema, derived from the probe registry', () => {
  it('offers every registered type, and each type’s fields as config keys', () => {
    expect(PROBE_TYPES).toEqual(Object.keys(PROBE_REGISTRY));
    const keys = Object.keys(ProbeSpecSchema.properties);
    for (const type of Object.values(PROBE_TYPES_BY_NAME))
      for (const field of Object.keys(type?.fields ?? {})) expect(keys, type?.type).toContain(field);
  });

  it('reports each type’s required fields at their key path when missing', () => {
    const types = PROBE_TYPES.filter((t) => (PROBE_TYPES_BY_NAME[t]?.required.length ?? 0) > 0);
    const text = CONFIG(types.map((t, i) => `    - { name: p${i}, layer: lan, type: ${t} }`).join('\n'));
    const r = validateConfigText(text, join('/tmp', 'required.yaml'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const want = types.flatMap((t, i) =>
      (PROBE_TYPES_BY_NAME[t]?.required ?? []).map((f) => ({
        path: `uplink.probes[${i}].${f}`,
        message: `required for type "${t}"`,
      })),
    );
    expect(r.issues).toEqual(want);
    expect(want.map((w) => w.path)).toContain('uplink.probes[2].query');
  });

  it('takes interval and timeout from the spec, else from its type (SPEC: icmp/tcp 1 s, dns/http 10 s)', () => {
    expect(intervalMsOf({ type: 'icmp' })).toBe(1000);
    expect(intervalMsOf({ type: 'tcp' })).toBe(1000);
    expect(intervalMsOf({ type: 'dns' })).toBe(10_000);
    expect(intervalMsOf({ type: 'http' })).toBe(10_000);
    expect(intervalMsOf({ type: 'http', interval_s: 2.5 })).toBe(2500);
    expect(timeoutOf({ type: 'tcp' })).toBe(800);
    expect(timeoutOf({ type: 'http', timeout_ms: 300 })).toBe(300);
    // A lone icmp run waits for its next packet: up to an interval more than the timeout.
    expect(oneRunMsOf({ type: 'icmp', interval_s: 2 })).toBe(2500);
    expect(oneRunMsOf({ type: 'dns' })).toBe(2000);
  });

  it('renders a result’s detail from its type’s keys, hiding a healthy rcode, error last', () => {
    expect(probeDetail('dns', { rcode: 'NOERROR', answers: 1 })).toBeNull();
    expect(probeDetail('dns', { rcode: 'SERVFAIL', answers: 0 })).toBe('rcode=SERVFAIL');
    expect(probeDetail('http', { status: 503, tls_error: 'CERT_HAS_EXPIRED', bytes: 10 })).toBe(
      'tls_error=CERT_HAS_EXPIRED status=503',
    );
    expect(probeDetail('tcp', { error: 'EHOSTUNREACH' })).toBe('error=EHOSTUNREACH');
    expect(probeDetail('usb', { usb_id: '0bda:0129', present: true })).toBeNull();
  });
});
