import type { EnvironmentConfig } from '../config.js';
import { nowIso, type MemoryDb } from '../memory/index.js';

export type FlagValue = boolean | string;
/** Values a release replaced: null means the flag had no stored value (the config value applied). */
export type PreviousFlags = Record<string, FlagValue | null>;

/** The flags of an environment for a tenant: config values, overridden by promoted releases. */
export function currentFlags(memory: MemoryDb, tenant: string, env: EnvironmentConfig): Record<string, FlagValue> {
  const rows = memory.db.prepare('SELECT name, value FROM feature_flags WHERE tenant = ? AND environment = ? ORDER BY name').all(tenant, env.name) as Array<{ name: string; value: string }>;
  const flags: Record<string, FlagValue> = { ...env.feature_flags };
  for (const row of rows) flags[row.name] = JSON.parse(row.value) as FlagValue;
  return flags;
}

/** Set flags and return what they replaced, for restoreFlags. Run it inside the caller's transaction. */
export function applyFlags(memory: MemoryDb, tenant: string, environment: string, flags: Record<string, FlagValue>, releaseId: string): PreviousFlags {
  const read = memory.db.prepare('SELECT value FROM feature_flags WHERE tenant = ? AND environment = ? AND name = ?');
  const write = memory.db.prepare(
    `INSERT INTO feature_flags (tenant, environment, name, value, release_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (tenant, environment, name) DO UPDATE SET value = excluded.value, release_id = excluded.release_id, updated_at = excluded.updated_at`,
  );
  const previous: PreviousFlags = {};
  const now = nowIso();
  for (const [name, value] of Object.entries(flags)) {
    const row = read.get(tenant, environment, name) as { value: string } | undefined;
    previous[name] = row ? (JSON.parse(row.value) as FlagValue) : null;
    write.run(tenant, environment, name, JSON.stringify(value), releaseId, now);
  }
  return previous;
}

/** Put back the values applyFlags replaced. */
export function restoreFlags(memory: MemoryDb, tenant: string, environment: string, previous: PreviousFlags, releaseId: string): void {
  const remove = memory.db.prepare('DELETE FROM feature_flags WHERE tenant = ? AND environment = ? AND name = ?');
  const write = memory.db.prepare(
    `INSERT INTO feature_flags (tenant, environment, name, value, release_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (tenant, environment, name) DO UPDATE SET value = excluded.value, release_id = excluded.release_id, updated_at = excluded.updated_at`,
  );
  const now = nowIso();
  for (const [name, value] of Object.entries(previous)) {
    if (value === null) remove.run(tenant, environment, name);
    else write.run(tenant, environment, name, JSON.stringify(value), releaseId, now);
  }
}

/**
 * restoreFlags for the flags this release still holds (their release_id is still its id); a flag
 * another release set since keeps that release's value. Returns the names left alone.
 */
export function restoreFlagsStillSetBy(memory: MemoryDb, tenant: string, environment: string, previous: PreviousFlags, releaseId: string): string[] {
  const owner = memory.db.prepare('SELECT release_id FROM feature_flags WHERE tenant = ? AND environment = ? AND name = ?');
  const mine: PreviousFlags = {};
  const kept: string[] = [];
  for (const [name, value] of Object.entries(previous)) {
    const row = owner.get(tenant, environment, name) as { release_id: string | null } | undefined;
    if (row?.release_id === releaseId) mine[name] = value;
    else kept.push(name);
  }
  restoreFlags(memory, tenant, environment, mine, releaseId);
  return kept;
}

/**
 * Flags this release set whose value is no longer the one it set (another release, or a rollback
 * of one, changed them since): restoring its previous values would silently overwrite those.
 */
export function flagsChangedSince(memory: MemoryDb, tenant: string, environment: string, set: Record<string, FlagValue>, releaseId: string): Array<{ name: string; release_id: string | null }> {
  const read = memory.db.prepare('SELECT value, release_id FROM feature_flags WHERE tenant = ? AND environment = ? AND name = ?');
  const changed: Array<{ name: string; release_id: string | null }> = [];
  for (const [name, value] of Object.entries(set)) {
    const row = read.get(tenant, environment, name) as { value: string; release_id: string | null } | undefined;
    if (!row || row.value !== JSON.stringify(value)) changed.push({ name, release_id: row && row.release_id !== releaseId ? row.release_id : null });
  }
  return changed;
}
