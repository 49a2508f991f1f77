// The bare reference for the memory target: fastify + pino + better-sqlite3 + a connected
// mqtt.js in one process, doing nothing of ours. Prints "ready" once all four are up.
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const log = pino({ level: 'info' }, pino.destination({ dest: 2, sync: true }));
const db = new Database(join(mkdtempSync(join(tmpdir(), 'kgw-bare-')), 'bare.db'));
db.pragma('journal_mode = WAL');
db.exec('CREATE TABLE IF NOT EXISTS t (x)');
const app = Fastify({ loggerInstance: log });
app.get('/healthz', async () => ({ ok: db.prepare('SELECT 1 AS ok').get().ok === 1 }));
await app.listen({ host: '127.0.0.1', port: 0 });
const client = await mqtt.connectAsync(process.argv[2], { reconnectPeriod: 0 });
process.stdout.write(`ready ${app.server.address().port} ${client.connected}\n`);
setInterval(() => undefined, 1 << 30);
