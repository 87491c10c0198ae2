import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { appendItem, MemoryDb, readLists } from '../src/memory/index.js';
import { fmt, median, percentile, verdict } from './stats.js';

/**
 * memory_read and memory_append on one list of `items` items (two tenants share the table, half
 * each): p50/p95 of a 100-item page (newest, and deep pages by cursor) and of an append, which
 * must not grow with the list. Run alone: `node --import tsx bench/memory-lists.ts [items]`.
 */
export function benchMemoryLists(items = 1_000_000, samples = 200): void {
  console.log(`memory lists with ${items.toLocaleString('en')} items in one table (${samples} samples each)`);
  const work = mkdtempSync(join(tmpdir(), 'release-mcp-bench-'));
  const memory = new MemoryDb({ path: join(work, 'memory.db') });
  try {
    const seedStart = performance.now();
    const insert = memory.db.prepare("INSERT INTO kv_items (tenant, key, list, item, created_at) VALUES (?, 'state/releases', 'history', ?, '2026-01-01T00:00:00Z')");
    memory.db.transaction(() => {
      for (let i = 0; i < items; i++) insert.run(i % 2 ? 'primary' : 'other', JSON.stringify({ sha: i.toString(16).padStart(40, '0'), n: i }));
      memory.db.exec("INSERT INTO kv_lists (tenant, key, list, length) SELECT tenant, key, list, count(*) FROM kv_items GROUP BY tenant, key, list");
    })();
    const seedMs = performance.now() - seedStart;
    console.log(`  seeded in ${fmt(seedMs)}`);

    const time = (fn: () => void): number[] => {
      fn(); // warm the prepared statement and the page cache
      return Array.from({ length: samples }, () => {
        const started = performance.now();
        fn();
        return performance.now() - started;
      });
    };
    const newest = time(() => readLists(memory, 'primary', 'state/releases', { list: 'history', limit: 100 }));
    let before: number | undefined;
    const deep = time(() => {
      const page = readLists(memory, 'primary', 'state/releases', { list: 'history', limit: 100, before }).lists.history!;
      before = page.next_before;
    });
    const allLists = time(() => readLists(memory, 'primary', 'state/releases', { limit: 100 }));
    const appendAtEnd = time(() => appendItem(memory, 'primary', 'state/releases', 'history', { sha: 'f'.repeat(40) }));
    const appendEmpty = time(() => appendItem(memory, 'primary', 'state/releases', `fresh-${Math.random()}`, { sha: 'f'.repeat(40) }));
    const line = (label: string, t: number[], target?: number) =>
      console.log(`  ${label.padEnd(38)} p50 ${fmt(median(t)).padEnd(8)} p95 ${fmt(percentile(t, 95)).padEnd(8)}${target === undefined ? '' : ` target p50 < ${target} ms   ${verdict(median(t) < target)}`}`);
    line('memory_read limit 100, newest page', newest, 2);
    line('memory_read limit 100, paging by cursor', deep, 2);
    line('memory_read of the key (all lists)', allLists, 2);
    line(`append to the ${(items / 2).toLocaleString('en')}-item list`, appendAtEnd);
    line('append to a new list (reference)', appendEmpty);
  } finally {
    memory.close();
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) benchMemoryLists(Number(process.argv[2] ?? 1_000_000));
