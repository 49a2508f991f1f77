import { m001Core } from './001-core.js';
import { m002Uplink } from './002-uplink.js';
import type { Migration } from './types.js';

/** Append new migrations at the end; never edit or reorder a released one. */
export const MIGRATIONS: readonly Migration[] = [m001Core, m002Uplink];
