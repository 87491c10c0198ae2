import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findKnownIssues, MemoryDb } from '../src/memory/index.js';
import { fmt, median, percentile, verdict } from './stats.js';

const TOOLS = ['quay_get_tag', 'konflux_get_component', 'git_push', 'gitlab_mr_create', 'jira_create_issue', 'konflux_create_release', 'git_rebase', 'appinterface_set_ref'];
const WORDS = ['timeout', 'denied', 'manifest', 'unknown', 'refused', 'expired', 'token', 'conflict', 'rejected', 'missing', 'quota', 'branch', 'image', 'tag', 'cluster', 'route', 'host', 'release', 'snapshot', 'pipeline'];

function seededRandom(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

/** check_known_issues with 100,000 learned fixes in memory: p50 and p95 over 200 lookups. */
export function benchKnownIssues(fixes = 100_000, lookups = 200): void {
  const work = mkdtempSync(join(tmpdir(), 'release-mcp-bench-'));
  const memory = new MemoryDb({ path: join(work, 'memory.db') });
  const random = seededRandom(42);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const phrase = (n: number) => Array.from({ length: n }, () => pick(WORDS)).join(' ');
  const insert = memory.db.prepare("INSERT INTO learned_fixes (tool, error_pattern, root_cause, fix, created_at, updated_at) VALUES (?, ?, ?, ?, 'now', 'now')");
  const seed = memory.db.transaction(() => {
    for (let i = 0; i < fixes; i++) insert.run(pick(TOOLS), `${phrase(3)} ${i}`, phrase(6), phrase(8));
  });
  const seedStart = performance.now();
  seed();
  const seedMs = performance.now() - seedStart;

  const times: number[] = [];
  for (let i = 0; i < lookups; i++) {
    const query = { tool: pick(TOOLS), error_text: `${pick(TOOLS)} failed [network]: ${phrase(12)} at step ${i}` };
    const started = performance.now();
    findKnownIssues(memory, query);
    times.push(performance.now() - started);
  }
  memory.close();
  rmSync(work, { recursive: true, force: true });
  console.log(`check_known_issues with ${fixes.toLocaleString('en')} learned fixes (${lookups} lookups; seeding took ${fmt(seedMs)})`);
  console.log(`  p50 ${fmt(median(times))}   p95 ${fmt(percentile(times, 95))}   target p50 < 5 ms   ${verdict(median(times) < 5)}`);
}
