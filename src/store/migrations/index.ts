import { m001Core } from './001-core.js';
import { m002Uplink } from './002-uplink.js';
import { m003Devices } from './003-devices.js';
import { m004Report } from './004-report.js';
import { m005System } from './005-system.js';
import { m006Cache } from './006-cache.js';
import { m007Web } from './007-web.js';
import { m008Charts } from './008-charts.js';
import { m009ReportSent } from './009-report-sent.js';
import { m010OutboxSeqId } from './010-outbox-seq-id.js';
import type { Migration } from './types.js';

/** Append new migrations at the end; never edit or reorder a released one. */
export const MIGRATIONS: readonly Migration[] = [
  m001Core,
  m002Uplink,
  m003Devices,
  m004Report,
  m005System,
  m006Cache,
  m007Web,
  m008Charts,
  m009ReportSent,
  m010OutboxSeqId,
];
