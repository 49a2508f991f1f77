import { FormatRegistry, type StringOptions, Type } from '@sinclair/typebox';
import cron from 'node-cron';

/**
 * The one cron format of the config. Every key that holds a cron expression is declared with
 * `CronString()`, whatever its name, so `check-config` rejects exactly what the scheduler
 * (node-cron, the same library) would throw on at start. Registering a format touches no I/O
 * and no timer; it only has to happen before the first validation, which importing this
 * module from a schema guarantees.
 */
export const CRON_FORMAT = 'cron';

if (!FormatRegistry.Has(CRON_FORMAT)) FormatRegistry.Set(CRON_FORMAT, (value) => cron.validate(value));

export const CronString = (options: StringOptions = {}) =>
  Type.String({ ...options, format: CRON_FORMAT, description: 'cron expression, WIB (node-cron syntax)' });
