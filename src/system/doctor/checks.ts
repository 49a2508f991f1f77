import { brokerCheck } from './broker.js';
import { clockCheck } from './clock.js';
import { dataDirCheck } from './data-dir.js';
import { databaseCheck } from './database.js';
import { diskCheck } from './disk.js';
import { fpingCheck } from './fping.js';
import { secretFilesCheck } from './secret-files.js';
import { systemdCheck } from './systemd.js';
import { temperatureCheck } from './temperature.js';
import type { DoctorCheck } from './types.js';
import { uplinkCheck } from './uplink.js';

/** The checklist, in the order a technician reads it (config is checked before these). */
export const CHECKS: readonly DoctorCheck[] = [
  dataDirCheck,
  secretFilesCheck,
  databaseCheck,
  diskCheck,
  fpingCheck,
  uplinkCheck,
  brokerCheck,
  clockCheck,
  temperatureCheck,
  systemdCheck,
];
