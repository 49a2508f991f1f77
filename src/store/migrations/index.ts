import { m001Core } from './001-core.js';
import { m003Devices } from './003-devices.js';
import { m007Web } from './007-web.js';
import type { Migration } from './types.js';

/** Append new migrations at the end; never edit or reorder a released one. */
export const MIGRATIONS: readonly Migration[] = [m001Core, m003Devices, m007Web];
