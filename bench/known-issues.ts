import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findKnownIssues, MemoryDb } from '../src/memory/index.js';
import { fmt, median, percentile, verdict } from './stats.js';

const TOOLS = ['quay_get_tag', 'konflux_get_component', 'git_push', 'gitlab_mr_create', 'jira_create_issue', 'konflux_create_release', 'git_rebase', 'appinterface_set_ref'];
const COMMON = ['timeout', 'denied', 'manifest', 'unknown', 'refused', 'expired', 'token', 'conflict', 'rejected', 'missing', 'quota', 'branch', 'image', 'tag', 'cluster', 'route', 'host', 'release', 'snapshot', 'pipeline'];

function seededRandom(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

interface Scenario {
  label: string;
  /** Words specific to one kind of failure (service names, resources, hosts); none in the degenerate case. */
  specificWords: number;
}

/**
 * One run: `fixes` learned fixes whose patterns mix common words with specific ones, then
 * lookups whose error text contains a stored pattern (as a real repeat failure does) in noise.
 */
function runScenario(scenario: Scenario, fixes: number, lookups: number): { p50: number; p95: number; seedMs: number } {
  const work = mkdtempSync(join(tmpdir(), 'release-mcp-bench-'));
  const memory = new MemoryDb({ path: join(work, 'memory.db') });
  const random = seededRandom(42);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const specific = Array.from({ length: scenario.specificWords }, (_, i) => `svc${i.toString(36)}x${(i * 7919).toString(36)}`);
  const word = () => (specific.length && random() < 0.5 ? pick(specific) : pick(COMMON));
  const phrase = (n: number) => Array.from({ length: n }, word).join(' ');
  const patterns: string[] = [];
  const insert = memory.db.prepare("INSERT INTO learned_fixes (tool, error_pattern, root_cause, fix, created_at, updated_at) VALUES (?, ?, ?, ?, 'now', 'now')");
  const seedStart = performance.now();
  memory.db.transaction(() => {
    for (let i = 0; i < fixes; i++) {
      const pattern = `${phrase(3)} ${i}`;
      patterns.push(pattern);
      insert.run(pick(TOOLS), pattern, phrase(6), phrase(8));
    }
  })();
  const seedMs = performance.now() - seedStart;

  const times: number[] = [];
  for (let i = 0; i < lookups; i++) {
    const query = { tool: pick(TOOLS), error_text: `${pick(TOOLS)} failed [network]: ${phrase(4)} ${pick(patterns)} ${phrase(4)}` };
    const started = performance.now();
    findKnownIssues(memory, query);
    times.push(performance.now() - started);
  }
  memory.close();
  rmSync(work, { recursive: true, force: true });
  return { p50: median(times), p95: percentile(times, 95), seedMs };
}

/** check_known_issues with 100,000 learned fixes in memory: p50 and p95 over 200 lookups. */
export function benchKnownIssues(fixes = 100_000, lookups = 200): void {
  console.log(`check_known_issues with ${fixes.toLocaleString('en')} learned fixes (${lookups} lookups each)`);
  const realistic = runScenario({ label: 'mixed vocabulary', specificWords: 5_000 }, fixes, lookups);
  console.log(`  20 common + 5,000 specific words   p50 ${fmt(realistic.p50)}   p95 ${fmt(realistic.p95)}   target p50 < 5 ms   ${verdict(realistic.p50 < 5)}`);
  const degenerate = runScenario({ label: 'degenerate', specificWords: 0 }, fixes, lookups);
  console.log(`  20 common words only (worst case)  p50 ${fmt(degenerate.p50)}   p95 ${fmt(degenerate.p95)}   (every word in half the fixes; for reference)`);
}
