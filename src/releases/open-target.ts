import { basename, dirname, extname, join } from 'node:path';
import { isPostgresUrl, userDataDir, type Config, type EnvironmentConfig, type Secrets } from '../config.js';
import { ToolError } from '../errors.js';
import type { SafetyOptions } from './migration-safety.js';
import { SqliteTarget, type TargetDatabase } from './target.js';
import { PostgresTarget } from './target-postgres.js';

/** Opening an environment's database (SQLite file or PostgreSQL URL), its password, its backups. */

export interface TargetDeps {
  /** Passwords of PostgreSQL targets (secrets.target_passwords, read from the environment). */
  secrets?: Secrets;
}

/** The password of an environment's PostgreSQL databases: its password_env, else PGPASSWORD (undefined: none needed). */
function targetPassword(deps: TargetDeps, env: EnvironmentConfig): string | undefined {
  const passwords = deps.secrets?.target_passwords ?? {};
  if (env.password_env) {
    const value = passwords[env.password_env];
    if (value === undefined) {
      throw new ToolError('config', `environment ${env.name} reads its database password from ${env.password_env}, which is not set`, {
        hint: `export ${env.password_env} in the environment of release-mcp (the password never goes in config.json)`,
      });
    }
    return value;
  }
  return passwords.PGPASSWORD;
}

/** Open an environment's database for a tenant: a SQLite file or a PostgreSQL database. */
export async function openTarget(deps: TargetDeps, env: EnvironmentConfig, location: string): Promise<TargetDatabase> {
  if (!isPostgresUrl(location)) return SqliteTarget.open(location);
  const password = targetPassword(deps, env);
  try {
    return await PostgresTarget.open(location, password);
  } catch (error) {
    throw new ToolError('network', `environment ${env.name}: ${(error as Error).message}`, {
      hint: `check environments[].database of ${env.name}, that the server is reachable, and ${env.password_env ?? 'PGPASSWORD'}`,
      cause: error,
    });
  }
}

export const safetyOptions = (config: Config, allowDataLoss: boolean): SafetyOptions => ({
  allow_data_loss: allowDataLoss,
  lock_timeout_ms: config.releases.lock_timeout_ms,
  statement_timeout_ms: config.releases.statement_timeout_ms,
});

/** Where promote keeps the copy of the target database taken before it changes anything. */
export function backupPathFor(databasePath: string, envName: string, releaseId: string): string {
  const stem = basename(databasePath, extname(databasePath));
  return join(dirname(databasePath), 'backups', `${stem}.${envName}.before-${releaseId}.db`);
}

/**
 * A PostgreSQL database is dumped beside the memory file (in the data directory for an in-memory
 * one): `backups/<database>.<env>.before-<release>.dump`.
 */
export function backupOf(memoryPath: string, location: string, envName: string, releaseId: string): string {
  if (!isPostgresUrl(location)) return backupPathFor(location, envName, releaseId);
  const database = decodeURIComponent(new URL(location).pathname.slice(1)).replace(/[^A-Za-z0-9_.-]/g, '_');
  const base = memoryPath === ':memory:' ? userDataDir() : dirname(memoryPath);
  return join(base, 'backups', `${database}.${envName}.before-${releaseId}.dump`);
}

/** How a backup is put back, for the hints of refused rollbacks. */
export const restoreHint = (target: TargetDatabase, backup: string) =>
  target.kind === 'postgresql' ? `pg_restore --clean --if-exists --dbname <${target.location}> ${backup}` : `restore ${backup} over ${target.location} (sqlite3 .restore)`;

