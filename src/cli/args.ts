import { parseArgs } from 'node:util';
import { GwError } from '../core/errors.js';

export interface CommonArgs {
  config?: string;
  json: boolean;
  lang?: string;
  help: boolean;
  /** `regency provision --all`. */
  all?: boolean;
  /** `regency provision|revoke --out DIR`. */
  out?: string;
  /** `provision DIR --root R`: install into a staged box root (no chown). */
  root?: string;
  /** `regency user add NAME --role R`. */
  role?: string;
  /** `regency provision --fetch-code`: also a one-time code per village to fetch its bundle with. */
  fetchCode?: boolean;
  /** `regency provision --cert`: also a client certificate per village from the regency CA. */
  cert?: boolean;
  /**
   * `provision --from URL (--code-file F | --code - | --code CODE) [--ca FILE | --fingerprint
   * SHA256]`: fetch the bundle; the one-time code from a file or stdin (`--code CODE` shows it in ps).
   */
  from?: string;
  code?: string;
  codeFile?: string;
  ca?: string;
  fingerprint?: string;
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
        all: { type: 'boolean', default: false },
        out: { type: 'string' },
        root: { type: 'string' },
        role: { type: 'string' },
        'fetch-code': { type: 'boolean', default: false },
        cert: { type: 'boolean', default: false },
        from: { type: 'string' },
        code: { type: 'string' },
        'code-file': { type: 'string' },
        ca: { type: 'string' },
        fingerprint: { type: 'string' },
      },
    });
    return {
      config: values.config,
      json: values.json ?? false,
      lang: values.lang,
      help: values.help ?? false,
      ...(values.all ? { all: true } : {}),
      ...(values.out === undefined ? {} : { out: values.out }),
      ...(values.root === undefined ? {} : { root: values.root }),
      ...(values.role === undefined ? {} : { role: values.role }),
      ...(values['fetch-code'] ? { fetchCode: true } : {}),
      ...(values.cert ? { cert: true } : {}),
      ...(values.from === undefined ? {} : { from: values.from }),
      ...(values.code === undefined ? {} : { code: values.code }),
      ...(values['code-file'] === undefined ? {} : { codeFile: values['code-file'] }),
      ...(values.ca === undefined ? {} : { ca: values.ca }),
      ...(values.fingerprint === undefined ? {} : { fingerprint: values.fingerprint }),
      positionals,
    };
  } catch (err) {
    throw new GwError('GW_ERR_USAGE', (err as Error).message);
  }
}
