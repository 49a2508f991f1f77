import { existsSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { DB_FILE } from '../../store/store.js';
import { type DoctorCheck, result, t } from './types.js';

/** Read-only quick_check: never repairs, migrates or writes anything. */
export const databaseCheck: DoctorCheck = {
  name: 'database',
  async run({ config }) {
    const path = join(config.data_dir, DB_FILE);
    if (!existsSync(path)) {
      return result(
        'database',
        'warn',
        t(`Belum ada database (${path})`, `No database yet (${path})`),
        t('Database dibuat saat daemon pertama kali jalan', 'It is created when the daemon first runs'),
      );
    }
    let db: BetterSqlite3.Database | undefined;
    try {
      db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
      db.pragma('busy_timeout = 3000');
      const rows = db.pragma('quick_check') as Array<{ quick_check: string }>;
      const ok = rows.length === 1 && rows[0]?.quick_check === 'ok';
      const version = db.pragma('user_version', { simple: true }) as number;
      if (ok) {
        return result(
          'database',
          'ok',
          t(
            `Database utuh (quick_check ok, skema ${version})`,
            `Database intact (quick_check ok, schema ${version})`,
          ),
          undefined,
          { schema: version },
        );
      }
      return result(
        'database',
        'fail',
        t('Database rusak (quick_check gagal)', 'Database damaged (quick_check failed)'),
        t(
          'Mulai ulang daemon: database rusak dipindahkan dan diganti yang baru; periksa kartu SD',
          'Restart the daemon: a damaged database is moved aside and replaced; check the SD card',
        ),
        { problems: rows.slice(0, 5).map((r) => r.quick_check) },
      );
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'error';
      return result(
        'database',
        'fail',
        t(`Database tidak bisa dibuka (${code})`, `Database cannot be opened (${code})`),
        t(
          'Periksa hak akses folder data; jika rusak, mulai ulang daemon agar diganti',
          'Check the data folder permissions; if damaged, restart the daemon to replace it',
        ),
        { error: code },
      );
    } finally {
      db?.close();
    }
  },
};
