import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * better-sqlite3, for the memory and for release target databases. It is CommonJS: loaded with
 * require() instead of import, Node skips the ESM loader's parse of the package, which took half
 * of its load time (about 10 ms of every start). Its native addon is opened by path, which spares
 * the `bindings` package's search of a dozen candidate paths (about 4 ms more).
 */
let driver: { Database: typeof BetterSqlite3; nativeBinding: string | undefined } | undefined;

function loadDriver(): NonNullable<typeof driver> {
  if (!driver) {
    const requireCommonJs = createRequire(import.meta.url);
    const Database = requireCommonJs('better-sqlite3') as typeof BetterSqlite3;
    let nativeBinding: string | undefined;
    try {
      nativeBinding = requireCommonJs.resolve('better-sqlite3/build/Release/better_sqlite3.node');
    } catch {
      // Built somewhere else: better-sqlite3 finds it itself.
    }
    driver = { Database, nativeBinding };
  }
  return driver;
}

export type SqliteDatabase = BetterSqlite3.Database;

/** Open (or create) a SQLite database file; the driver loads on the first open. */
export function openSqlite(path: string, options: { timeout: number }): SqliteDatabase {
  const { Database, nativeBinding } = loadDriver();
  return new Database(path, { ...options, ...(nativeBinding ? { nativeBinding } : {}) });
}
