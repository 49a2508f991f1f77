import { parseArgs } from 'node:util';
import { GwError } from '../core/errors.js';

export interface CommonArgs {
  config?: string;
  json: boolean;
  lang?: string;
  help: boolean;
  positionals: string[];
}

/** Parses the flags every subcommand shares; an unknown flag is a usage error (exit 2). */
export function parseCommon(argv: string[]): CommonArgs {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string', short: 'c' },
        json: { type: 'boolean', default: false },
        lang: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    return {
      config: values.config,
      json: values.json ?? false,
      lang: values.lang,
      help: values.help ?? false,
      positionals,
    };
  } catch (err) {
    throw new GwError('GW_ERR_USAGE', (err as Error).message);
  }
}
