import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export const SHA = '0123456789abcdef0123456789abcdef01234567';

/**
 * Three environments on real SQLite files in `dir`; staging and prod have a users table with
 * rows. The default tenant has `<env>.db`, the tenant "other" its own `other-<env>.db`.
 */
export function ledgerConfig(dir: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  for (const file of ['staging.db', 'prod.db', 'other-staging.db', 'other-prod.db']) seedUsers(join(dir, file));
  const databases = (env: string) => ({ database: join(dir, `${env}.db`), databases: { other: join(dir, `other-${env}.db`) } });
  return {
    environments: [
      { name: 'dev', ...databases('dev'), feature_flags: { new_ui: true } },
      { name: 'staging', ...databases('staging'), feature_flags: { new_ui: false, plan: 'basic' } },
      { name: 'prod', ...databases('prod'), feature_flags: { new_ui: false } },
    ],
    ...extra,
  };
}

export function seedUsers(path: string): void {
  const db = new Database(path);
  db.exec(`
    CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, age INTEGER);
    CREATE INDEX users_name ON users (name);
    INSERT INTO users (name, email, age) VALUES ('ada', 'ada@example.com', 36), ('bob', NULL, 41), ('cy', 'cy@example.com', NULL);
  `);
  db.close();
}

/** Run something against a database file with a fresh connection. */
export function withDb<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Every schema object of a database file (but release-mcp's promotion marker), to compare before and after. */
export function schemaOf(path: string): unknown[] {
  return withDb(path, (db) => db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND tbl_name <> '_release_mcp_promotions' ORDER BY type, name").all());
}

export function columnsOf(path: string, table: string): string[] {
  return withDb(path, (db) => (db.pragma(`table_info(${table})`) as Array<{ name: string }>).map((c) => c.name));
}

export function rowsOf(path: string, sql: string): unknown[] {
  return withDb(path, (db) => db.prepare(sql).all());
}

export function data<T = Record<string, unknown>>(result: CallToolResult): T {
  if (result.isError) throw new Error(`expected success, got ${JSON.stringify(result._meta)} ${JSON.stringify(result.content)}`);
  return result.structuredContent as T;
}

export interface Manifest {
  id: string;
  status: string;
  bundle_sha256: string;
  backup_path: string | null;
  failed_at: string | null;
  promoted_at: string | null;
  error_message: string | null;
  migrations: Array<{ index: number; operation: string; sql: string; rollback_sql: string | null; reversible: boolean; data_loss: boolean; dry_run_result: { ok: boolean; error?: string; affected: string[] } }>;
}

export const bundle = (migrations: unknown[], feature_flags: Record<string, unknown> = {}) => ({ commit_sha: SHA, images: { backend: `quay.io/org/backend:${SHA}` }, migrations, feature_flags });
