import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestBroker } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import { RegencyDaemon, regencyConfig, type TestDialect, TestStore, VillagePublisher } from './helpers.js';

/** Writes a villages file (CSV lines, header first) into `dir` and returns its path. */
export function writeVillages(dir: string, lines: readonly string[]): string {
  const file = join(dir, 'villages.csv');
  writeFileSync(file, lines.join('\n'));
  return file;
}

export interface RegencyFixtureOptions {
  dialect: TestDialect;
  /** Prefix of the test's temporary folder (`kgw-regency-rep-`). */
  prefix: string;
  /** The villages file as CSV lines (header first); default the bundled list. */
  villages?: readonly string[];
  /** The regency's name when `villages` is given (default Kabupaten Uji). */
  name?: string;
  /** Merged over `regencyConfig` (top-level keys replace). */
  config?: Record<string, unknown>;
  /** The account to log in as (added with `regency user add`); false: no session. */
  login?: false | { name?: string; password?: string; role?: string };
}

/**
 * What most regency tests start from, one per test file: a real Mosquitto, the test's own
 * store (SQLite file or PostgreSQL database), `kampung-gw regency run` from dist/ as a child
 * process with a logged-in session, and a village publisher connected to the broker.
 * `start()` in beforeAll, `stop()` in afterAll (stops the publisher, the daemon, the broker,
 * then drops the store and the folder).
 */
export class RegencyFixture {
  readonly tmp;
  readonly broker = new TestBroker();
  readonly store: TestStore;
  readonly pub = new VillagePublisher();
  private current: RegencyDaemon | undefined;
  private readonly o: RegencyFixtureOptions;

  constructor(o: RegencyFixtureOptions) {
    this.o = o;
    this.tmp = tempDir(o.prefix);
    this.store = new TestStore(o.dialect, this.tmp.path);
  }

  get daemon(): RegencyDaemon {
    if (!this.current) throw new Error('the fixture is not started');
    return this.current;
  }

  async start(): Promise<void> {
    await this.broker.start();
    await this.store.create();
    const regency = this.o.villages
      ? {
          regency: {
            name: this.o.name ?? 'Kabupaten Uji',
            villages_file: writeVillages(this.tmp.path, this.o.villages),
          },
        }
      : {};
    this.current = new RegencyDaemon(join(this.tmp.path, 'regency'), {
      ...regencyConfig(this.store, this.broker.url),
      ...regency,
      ...this.o.config,
    });
    await this.current.start();
    if (this.o.login !== false) {
      const l = this.o.login ?? {};
      await this.current.login(l.name, l.password, l.role);
    }
    await this.pub.connect(this.broker.url);
  }

  async stop(): Promise<void> {
    await this.pub.close();
    await this.current?.kill();
    await this.broker.dispose();
    await this.store.drop();
    this.tmp.cleanup();
  }
}
