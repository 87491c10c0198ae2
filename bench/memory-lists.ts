import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { appendItem, MemoryDb, readLists } from '../src/memory/index.js';
import { figure, fmt, median } from './stats.js';

interface ListTimes {
  newest: number;
  paging: number;
  append: number;
}

/** p50 of a 100-item page (newest, and deeper pages by cursor) and of an append, on one list of `items` items (two tenants share the table). */
async function measure(items: number, samples: number): Promise<ListTimes> {
  const work = mkdtempSync(join(tmpdir(), 'release-mcp-bench-'));
  const memory = new MemoryDb({ path: join(work, 'memory.db') });
  try {
    const seedStart = performance.now();
    const insert = memory.db.prepare("INSERT INTO kv_items (tenant, key, list, item, created_at) VALUES (?, 'state/releases', 'history', ?, '2026-01-01T00:00:00Z')");
    memory.db.transaction(() => {
      for (let i = 0; i < items; i++) insert.run(i % 2 ? 'primary' : 'other', JSON.stringify({ sha: i.toString(16).padStart(40, '0'), n: i }));
      memory.db.exec('INSERT INTO kv_lists (tenant, key, list, length) SELECT tenant, key, list, count(*) FROM kv_items GROUP BY tenant, key, list');
    })();
    console.log(`  ${items.toLocaleString('en')} items seeded in ${fmt(performance.now() - seedStart)}`);
    const time = async (fn: () => Promise<unknown>): Promise<number> => {
      await fn(); // warm the prepared statement and the page cache
      const times: number[] = [];
      for (let i = 0; i < samples; i++) {
        const started = performance.now();
        await fn();
        times.push(performance.now() - started);
      }
      return median(times);
    };
    let before: number | undefined;
    return {
      newest: await time(() => readLists(memory, 'primary', 'state/releases', { list: 'history', limit: 100 })),
      paging: await time(async () => {
        before = (await readLists(memory, 'primary', 'state/releases', { list: 'history', limit: 100, before })).lists.history!.next_before;
      }),
      append: await time(() => appendItem(memory, 'primary', 'state/releases', 'history', { sha: 'f'.repeat(40) })),
    };
  } finally {
    await memory.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * memory_read and memory_append at `items` items beside the same calls at 1,000 items: a page
 * and an append must not grow with the list (target: a 100-item read under 2 ms at 1M items).
 * Run alone: `node --import tsx bench/memory-lists.ts [items]`.
 */
export async function benchMemoryLists(items = 1_000_000, samples = 200): Promise<void> {
  console.log(`memory lists: ${items.toLocaleString('en')} items against 1,000 (p50 of ${samples} calls each)`);
  const baseline = await measure(1_000, samples);
  const big = await measure(items, samples);
  console.log(figure('memory_read limit 100, newest page', big.newest, baseline.newest, 'ms', { max: 1.5 }) + `  absolute < 2 ms: ${big.newest < 2 ? 'PASS' : 'MISS'}`);
  console.log(figure('memory_read limit 100, paging by cursor', big.paging, baseline.paging, 'ms', { max: 1.5 }));
  console.log(figure('memory_append to the long list', big.append, baseline.append, 'ms', { max: 1.5 }));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchMemoryLists(Number(process.argv[2] ?? 1_000_000));
