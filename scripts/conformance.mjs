#!/usr/bin/env node
// `npm run conformance [-- gateway squid apache varnish] [--markdown]`: RFC 9111 / 9110 / 5861
// cache behaviours, each a small scripted exchange through a cache in front of an origin on port 0
// that this run controls and that counts what it receives. Runs against the gateway's built daemon
// (`npm run build` first) and, where installed, Squid, Apache httpd and Varnish
// (apt-get install -y --no-install-recommends squid apache2 varnish). Needs no network.
// The idea of a table of cache behaviours follows http-tests/cache-tests; these cases are our own.
// Not part of `npm test`: it starts other servers and takes about a minute.
import { request } from 'node:http';
import directives from './conformance/cases-directives.mjs';
import exchange from './conformance/cases-exchange.mjs';
import freshness from './conformance/cases-freshness.mjs';
import { Origin } from './conformance/origin.mjs';
import { TARGETS } from './conformance/targets.mjs';

const CASES = [...freshness, ...directives, ...exchange];
const PARALLEL = 8;
const CASE_TIMEOUT_MS = 15_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const markdown = process.argv.includes('--markdown');
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const names = only.length ? only : Object.keys(TARGETS);
const filter = process.env.CONFORMANCE_CASES?.split(',');

function send(url, method, headers, body) {
  return new Promise((resolve, reject) => {
    // A fresh connection per exchange: no case's keep-alive state leaks into the next.
    // node frames a DELETE's body with neither Content-Length nor chunking unless told.
    const framed = body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) };
    const req = request(url, { method, headers: framed, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

function context(target, origin, path) {
  let route;
  return {
    path,
    // A request with Authorization (RFC 9111 3.5): the gateway's kiosks always send one, its own.
    auth: { authorization: target.headers.authorization ?? 'Basic Y29uZjpjb25m' },
    origin(handler) {
      route = origin.route(path, handler);
    },
    requests: () => route?.requests ?? [],
    count: (method) => (route?.requests ?? []).filter((r) => !method || r.method === method).length,
    get(headers = {}, { method = 'GET', suffix = '', body } = {}) {
      return send(`${target.base}${path}${suffix}`, method, { ...target.headers, ...headers }, body);
    },
    sleep,
    expect(cond, msg) {
      if (!cond) throw new Error(msg);
    },
  };
}

async function runCase(name, target, origin, c) {
  const t = context(target, origin, `/${name}/${c.id}`);
  let timer;
  try {
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), CASE_TIMEOUT_MS);
    });
    await Promise.race([c.run(t), timeout]);
    return { pass: true };
  } catch (e) {
    return { pass: false, why: e.message.split('\n')[0].slice(0, 80) };
  } finally {
    clearTimeout(timer);
  }
}

async function runTarget(name, origin) {
  let target;
  try {
    target = await TARGETS[name].start(origin);
  } catch (e) {
    console.error(`${name}: not run (${e.message.split('\n')[0]})`);
    return null;
  }
  const results = {};
  try {
    const cases = CASES.filter((c) => !filter || filter.includes(c.id));
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const c = cases[next++];
        results[c.id] = await runCase(name, target, origin, c);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
  } finally {
    await target.stop();
  }
  return results;
}

const origin = new Origin();
await origin.start();
const all = {};
const versions = {};
for (const name of names) {
  console.error(`=== ${name}`);
  const r = await runTarget(name, origin);
  if (!r) continue;
  all[name] = r;
  versions[name] = TARGETS[name].version();
}
await origin.stop();

const ran = Object.keys(all);
const cases = CASES.filter((c) => !filter || filter.includes(c.id));
const mark = (r) => (r.pass ? 'pass' : 'FAIL');
if (markdown) {
  console.log(`| behaviour | spec | level | ${ran.map((n) => `${n} ${versions[n]}`).join(' | ')} |`);
  console.log(`|---|---|---|${ran.map(() => '---').join('|')}|`);
  for (const c of cases)
    console.log(
      `| \`${c.id}\`: ${c.title} | ${c.spec} | ${c.level} | ${ran.map((n) => mark(all[n][c.id])).join(' | ')} |`,
    );
} else {
  const w = Math.max(...cases.map((c) => c.id.length));
  console.log(`${'behaviour'.padEnd(w)}  ${'level'.padEnd(6)}  ${ran.map((n) => n.padEnd(8)).join(' ')}`);
  for (const c of cases) {
    const cells = ran.map((n) => mark(all[n][c.id]).padEnd(8)).join(' ');
    const whys = ran.filter((n) => !all[n][c.id].pass).map((n) => `${n}: ${all[n][c.id].why}`);
    console.log(`${c.id.padEnd(w)}  ${c.level.padEnd(6)}  ${cells}  ${whys.join('; ')}`);
  }
}
const totals = {};
for (const n of ran) {
  const passed = cases.filter((c) => all[n][c.id].pass);
  const must = cases.filter((c) => c.level === 'MUST');
  totals[n] = {
    version: versions[n],
    passed: passed.length,
    of: cases.length,
    must_passed: passed.filter((c) => c.level === 'MUST').length,
    must_of: must.length,
  };
}
console.log(`\n${JSON.stringify({ conformance: totals })}`);
