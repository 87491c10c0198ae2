import { nowIso, type MemoryDb } from './store.js';

export interface SessionLogEntry {
  id: number;
  ts: string;
  action: string;
  details: string;
  source: string;
}

export function addSessionLog(mem: MemoryDb, action: string, details = '', source = 'tool'): SessionLogEntry {
  const ts = nowIso();
  const row = { ts, action: mem.redact(action), details: mem.redact(details), source };
  const info = mem.db.prepare('INSERT INTO session_log (ts, action, details, source) VALUES (@ts, @action, @details, @source)').run(row);
  return { id: Number(info.lastInsertRowid), ...row };
}

export function recentSessionLog(mem: MemoryDb, limit = 20): SessionLogEntry[] {
  return mem.db.prepare('SELECT * FROM session_log ORDER BY id DESC LIMIT ?').all(limit) as SessionLogEntry[];
}

export interface ListItem {
  id: number;
  item: unknown;
  created_at: string;
}

export function appendItem(mem: MemoryDb, key: string, list: string, item: unknown): { id: number; length: number } {
  const insert = mem.db.transaction(() => {
    const info = mem.db.prepare('INSERT INTO kv_items (key, list, item, created_at) VALUES (?, ?, ?, ?)').run(key, list, mem.json(item), nowIso());
    const { n } = mem.db.prepare('SELECT count(*) AS n FROM kv_items WHERE key = ? AND list = ?').get(key, list) as { n: number };
    return { id: Number(info.lastInsertRowid), length: n };
  });
  return insert.immediate();
}

/** Lists under a key, each newest last; `limit` keeps the newest items of each list. */
export function readLists(mem: MemoryDb, key: string, list?: string, limit = 100): Record<string, ListItem[]> {
  const rows = (
    list === undefined
      ? mem.db.prepare('SELECT id, list, item, created_at FROM kv_items WHERE key = ? ORDER BY id').all(key)
      : mem.db.prepare('SELECT id, list, item, created_at FROM kv_items WHERE key = ? AND list = ? ORDER BY id').all(key, list)
  ) as Array<{ id: number; list: string; item: string; created_at: string }>;
  const lists: Record<string, ListItem[]> = {};
  for (const row of rows) (lists[row.list] ??= []).push({ id: row.id, item: JSON.parse(row.item), created_at: row.created_at });
  for (const name of Object.keys(lists)) lists[name] = lists[name]!.slice(-limit);
  return lists;
}
