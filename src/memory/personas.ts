import type { Principal } from '../principal.js';
import { nowIso, type MemoryDb } from './store.js';

/**
 * The persona a principal last loaded, for clients without a session (the 2026-07-28 era): each
 * of their requests may reach another server process, so the choice is kept in the store.
 */
export async function savedPersona(memory: MemoryDb, principal: Principal): Promise<string | undefined> {
  const row = await memory.get<{ persona: string }>('SELECT persona FROM principal_personas WHERE tenant = ? AND subject = ?', principal.tenant, principal.subject);
  return row?.persona;
}

export async function savePersona(memory: MemoryDb, principal: Principal, persona: string): Promise<void> {
  await memory.run(
    `INSERT INTO principal_personas (tenant, subject, persona, updated_at) VALUES (?, ?, ?, ?)
  ON CONFLICT (tenant, subject) DO UPDATE SET persona = excluded.persona, updated_at = excluded.updated_at`,
    principal.tenant,
    principal.subject,
    persona,
    nowIso(),
  );
}
