import { nowIso, type MemoryDb } from './store.js';

/**
 * The session journal and the key-value lists. Every row belongs to one tenant: a caller
 * reads and writes only its own tenant's rows, and another tenant's key looks empty.
 */

export interface SessionLogEntry {
  id: number;
  ts: string;
  action: string;
  details: string;
  source: string;
  /** Who wrote it: the principal's subject (OS user, or token:<ENV VAR>). */
  actor: string;
}

export interface Writer {
  tenant: string;
  subject: string;
}

export async function addSessionLog(mem: MemoryDb, writer: Writer, action: string, details = '', source = 'tool'): Promise<SessionLogEntry> {
  const ts = nowIso();
  const row = { ts, action: mem.redact(action), details: mem.redact(details), source, actor: writer.subject };
  const id = await mem.insert('INSERT INTO session_log (tenant, ts, action, details, source, actor) VALUES (?, ?, ?, ?, ?, ?)', writer.tenant, row.ts, row.action, row.details, row.source, row.actor);
  return { id, ...row };
}

/** A tenant's journal, newest first; `before` (an entry id) pages to older entries. */
export function recentSessionLog(mem: MemoryDb, tenant: string, options: { limit?: number; before?: number } = {}): Promise<SessionLogEntry[]> {
  return mem.all<SessionLogEntry>('SELECT id, ts, action, details, source, actor FROM session_log WHERE tenant = ? AND id < ? ORDER BY id DESC LIMIT ?', tenant, options.before ?? Number.MAX_SAFE_INTEGER, options.limit ?? 20);
}

export interface ListItem {
  id: number;
  item: unknown;
  created_at: string;
}

/** An item larger than the cap, as JSON text: nothing was written. */
export class ItemTooLargeError extends Error {
  override readonly name = 'ItemTooLargeError';
  constructor(
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`the item is ${bytes} bytes as JSON, more than the ${maxBytes} allowed`);
  }
}

/**
 * Append one item. The list's length lives in kv_lists, so an append costs the same at the
 * millionth item as at the first (no count over the list).
 */
export async function appendItem(mem: MemoryDb, tenant: string, key: string, list: string, item: unknown, maxBytes = Number.POSITIVE_INFINITY): Promise<{ id: number; length: number }> {
  const text = mem.json(item);
  const bytes = Buffer.byteLength(text);
  if (bytes > maxBytes) throw new ItemTooLargeError(bytes, maxBytes);
  return mem.transaction(async () => {
    const id = await mem.insert('INSERT INTO kv_items (tenant, key, list, item, created_at) VALUES (?, ?, ?, ?, ?)', tenant, key, list, text, nowIso());
    const row = await mem.get<{ length: number }>(
      'INSERT INTO kv_lists (tenant, key, list, length) VALUES (?, ?, ?, 1) ON CONFLICT (tenant, key, list) DO UPDATE SET length = kv_lists.length + 1 RETURNING length',
      tenant,
      key,
      list,
    );
    return { id, length: row!.length };
  });
}

export interface ListPage {
  /** Oldest first: the newest `limit` items older than `before`. */
  items: ListItem[];
  /** Items in the whole list. */
  total: number;
  /** Pass as `before` to read the next older page; absent on the oldest page. */
  next_before?: number;
}

export interface ReadListsResult {
  lists: Record<string, ListPage>;
  /** More lists exist under the key than were read (they come after the last name, by name). */
  more_lists: boolean;
}

/** Lists read at most when no list is named: a key with more lists is read by list name. */
export const MAX_LISTS_PER_READ = 100;

/**
 * A tenant's lists under a key (or one list), each a page of its newest items older than
 * `before`. Pages come from the (tenant, key, list, id) index: the cost is the page, not the list.
 */
export async function readLists(mem: MemoryDb, tenant: string, key: string, options: { list?: string | undefined; limit?: number; before?: number | undefined } = {}): Promise<ReadListsResult> {
  const limit = options.limit ?? 100;
  const before = options.before ?? Number.MAX_SAFE_INTEGER;
  const lists =
    options.list === undefined
      ? await mem.all<{ list: string; length: number }>('SELECT list, length FROM kv_lists WHERE tenant = ? AND key = ? ORDER BY list LIMIT ?', tenant, key, MAX_LISTS_PER_READ + 1)
      : await mem.all<{ list: string; length: number }>('SELECT list, length FROM kv_lists WHERE tenant = ? AND key = ? AND list = ?', tenant, key, options.list);
  const more_lists = lists.length > MAX_LISTS_PER_READ;
  const page = 'SELECT id, item, created_at FROM kv_items WHERE tenant = ? AND key = ? AND list = ? AND id < ? ORDER BY id DESC LIMIT ?';
  const result: Record<string, ListPage> = {};
  for (const { list, length } of lists.slice(0, MAX_LISTS_PER_READ)) {
    // One more than the page tells whether an older page exists without counting.
    const rows = await mem.all<{ id: number; item: string; created_at: string }>(page, tenant, key, list, before, limit + 1);
    const older = rows.length > limit;
    const items = rows.slice(0, limit).reverse().map((row) => ({ id: row.id, item: JSON.parse(row.item) as unknown, created_at: row.created_at }));
    result[list] = { items, total: length, ...(older && items.length ? { next_before: items[0]!.id } : {}) };
  }
  return { lists: result, more_lists };
}
