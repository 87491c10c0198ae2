import type { EnvironmentConfig } from '../config.js';
import { nowIso, type MemoryDb } from '../memory/index.js';

export type FlagValue = boolean | string;
/** Values a release replaced: null means the flag had no stored value (the config value applied). */
export type PreviousFlags = Record<string, FlagValue | null>;

/** The flags of an environment for a tenant: config values, overridden by promoted releases. */
export async function currentFlags(memory: MemoryDb, tenant: string, env: EnvironmentConfig): Promise<Record<string, FlagValue>> {
  const rows = await memory.all<{ name: string; value: string }>('SELECT name, value FROM feature_flags WHERE tenant = ? AND environment = ? ORDER BY name', tenant, env.name);
  const flags: Record<string, FlagValue> = { ...env.feature_flags };
  for (const row of rows) flags[row.name] = JSON.parse(row.value) as FlagValue;
  return flags;
}

const WRITE_FLAG = `INSERT INTO feature_flags (tenant, environment, name, value, release_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (tenant, environment, name) DO UPDATE SET value = excluded.value, release_id = excluded.release_id, updated_at = excluded.updated_at`;

/** Set flags and return what they replaced, for restoreFlags. Run it inside the caller's transaction. */
export async function applyFlags(memory: MemoryDb, tenant: string, environment: string, flags: Record<string, FlagValue>, releaseId: string): Promise<PreviousFlags> {
  // Another process changing this environment's flags waits until the caller's transaction ends.
  await memory.lock(`feature_flags:${tenant}:${environment}`);
  const previous: PreviousFlags = {};
  const now = nowIso();
  for (const [name, value] of Object.entries(flags)) {
    const row = await memory.get<{ value: string }>('SELECT value FROM feature_flags WHERE tenant = ? AND environment = ? AND name = ?', tenant, environment, name);
    previous[name] = row ? (JSON.parse(row.value) as FlagValue) : null;
    await memory.run(WRITE_FLAG, tenant, environment, name, JSON.stringify(value), releaseId, now);
  }
  return previous;
}

/** Put back the values applyFlags replaced. */
export async function restoreFlags(memory: MemoryDb, tenant: string, environment: string, previous: PreviousFlags, releaseId: string): Promise<void> {
  await memory.lock(`feature_flags:${tenant}:${environment}`);
  const now = nowIso();
  for (const [name, value] of Object.entries(previous)) {
    if (value === null) await memory.run('DELETE FROM feature_flags WHERE tenant = ? AND environment = ? AND name = ?', tenant, environment, name);
    else await memory.run(WRITE_FLAG, tenant, environment, name, JSON.stringify(value), releaseId, now);
  }
}

/**
 * restoreFlags for the flags this release still holds (their release_id is still its id); a flag
 * another release set since keeps that release's value. Returns the names left alone.
 */
export async function restoreFlagsStillSetBy(memory: MemoryDb, tenant: string, environment: string, previous: PreviousFlags, releaseId: string): Promise<string[]> {
  await memory.lock(`feature_flags:${tenant}:${environment}`);
  const mine: PreviousFlags = {};
  const kept: string[] = [];
  for (const [name, value] of Object.entries(previous)) {
    const row = await memory.get<{ release_id: string | null }>('SELECT release_id FROM feature_flags WHERE tenant = ? AND environment = ? AND name = ?', tenant, environment, name);
    if (row?.release_id === releaseId) mine[name] = value;
    else kept.push(name);
  }
  await restoreFlags(memory, tenant, environment, mine, releaseId);
  return kept;
}

/**
 * Flags this release set whose value is no longer the one it set (another release, or a rollback
 * of one, changed them since): restoring its previous values would silently overwrite those.
 */
export async function flagsChangedSince(memory: MemoryDb, tenant: string, environment: string, set: Record<string, FlagValue>, releaseId: string): Promise<Array<{ name: string; release_id: string | null }>> {
  const changed: Array<{ name: string; release_id: string | null }> = [];
  for (const [name, value] of Object.entries(set)) {
    const row = await memory.get<{ value: string; release_id: string | null }>('SELECT value, release_id FROM feature_flags WHERE tenant = ? AND environment = ? AND name = ?', tenant, environment, name);
    if (!row || row.value !== JSON.stringify(value)) changed.push({ name, release_id: row && row.release_id !== releaseId ? row.release_id : null });
  }
  return changed;
}
