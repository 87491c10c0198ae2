import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findKnownIssues, MemoryDb, MIGRATIONS, patternIndex } from '../src/memory/index.js';
import { fmt, median, percentile } from './stats.js';

/**
 * check_known_issues at 1,000,000 learned fixes, for the two kinds of error text that cost
 * differently: one with rare words (a host, a component) and one made only of words found in
 * tens of thousands of fixes. Each is timed warm (one connection) and cold (a fresh connection
 * per lookup: SQLite's page cache empty, the OS file cache as the machine left it).
 *
 * Baseline: the same lookups at 10,000 learned fixes, built the same way. The ratio is how much
 * the lookup grows with a history 100 times larger; near 1 means it does not depend on history size.
 * The hit rate says the planted fix was found: a fast lookup that misses is not a result.
 */

const TOOLS = ['quay_get_tag', 'konflux_get_component', 'git_push', 'gitlab_mr_create', 'jira_create_issue', 'konflux_create_release', 'git_rebase', 'appinterface_set_ref'];
/** Words every kind of failure uses: each is in tens of thousands of fixes at 1M. */
const COMMON = ['timeout', 'denied', 'manifest', 'unknown', 'refused', 'expired', 'token', 'conflict', 'rejected', 'missing', 'quota', 'branch', 'image', 'tag', 'cluster', 'route', 'host', 'release', 'snapshot', 'pipeline'];
const SPECIFIC_WORDS = 50_000;
const TENANTS = { big: 'primary', small: 'other' } as const;

/** A deterministic generator per row, so a cached fixture and the queries agree without storing either. */
function rowRandom(seed: number): () => number {
  let s = (seed * 2654435761) >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

const specificWord = (n: number) => `svc${n.toString(36)}x${((n * 7919) % 99991).toString(36)}`;

interface FixtureRow {
  tenant: string;
  tool: string;
  pattern: string;
  rootCause: string;
  fix: string;
  /** The pattern is made only of common words. */
  commonOnly: boolean;
}

/** Row i of the fixture: a tenth belong to the small tenant, a quarter have common-words-only patterns. */
function fixtureRow(i: number): FixtureRow {
  const random = rowRandom(i + 1);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const common = () => pick(COMMON);
  const mixed = () => (random() < 0.5 ? specificWord(Math.floor(random() * SPECIFIC_WORDS)) : common());
  const phrase = (n: number, word: () => string) => Array.from({ length: n }, word).join(' ');
  const commonOnly = i % 4 === 0;
  return {
    // i % 10 === 4 meets i % 4 === 0 (every 20th row): the small tenant has common-words-only patterns too.
    tenant: i % 10 === 4 ? TENANTS.small : TENANTS.big,
    tool: pick(TOOLS),
    pattern: commonOnly ? phrase(5, common) : `${phrase(3, mixed)} ${specificWord(Math.floor(random() * SPECIFIC_WORDS))}`,
    rootCause: phrase(6, mixed),
    fix: `fix ${i}: ${phrase(4, mixed)}`,
    commonOnly,
  };
}

const FIXTURE_REVISION = 2;

/** The fixture file for a size, built once (one transaction, one prepared statement) and kept in the temp dir. */
function fixture(fixes: number): { path: string; buildMs: number | undefined } {
  const version = Math.max(...MIGRATIONS.map((m) => m.version));
  const dir = join(tmpdir(), 'release-mcp-bench');
  // The fixture's own revision beside the schema's: a change to fixtureRow must not reuse an old file.
  const path = join(dir, `learned-fixes-${fixes}-v${version}-r${FIXTURE_REVISION}.db`);
  if (existsSync(path)) return { path, buildMs: undefined };
  mkdirSync(dir, { recursive: true });
  const building = `${path}.${process.pid}.tmp`;
  const started = performance.now();
  const memory = new MemoryDb({ path: building });
  // A throw-away file: no journal, and a page cache that holds the indexes while a million rows go in.
  memory.db.pragma('journal_mode = OFF');
  memory.db.pragma('synchronous = OFF');
  memory.db.pragma('cache_size = -1000000');
  const insert = memory.db.prepare(
    `INSERT OR IGNORE INTO learned_fixes (tenant, taught_by, tool, error_pattern, pattern_words, pattern_lead, root_cause, fix, times_fixed, created_at, updated_at)
     VALUES (?, 'bench', ?, ?, ?, ?, ?, ?, 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`,
  );
  memory.db.transaction(() => {
    for (let i = 0; i < fixes; i++) {
      const row = fixtureRow(i);
      const index = patternIndex(row.pattern);
      insert.run(row.tenant, row.tool, row.pattern, index.pattern_words, index.pattern_lead, row.rootCause, row.fix);
    }
  })();
  memory.close();
  renameSync(building, path);
  return { path, buildMs: performance.now() - started };
}

type Kind = 'rare' | 'common';

interface Lookup {
  tenant: string;
  tool: string;
  errorText: string;
  planted: string;
}

/** Error texts that contain a stored pattern in noise, as a repeat failure does. */
function lookups(fixes: number, kind: Kind, tenant: string, count: number): Lookup[] {
  const random = rowRandom(fixes + (kind === 'rare' ? 17 : 29) + tenant.length);
  const pickCommon = () => COMMON[Math.floor(random() * COMMON.length)]!;
  const noise = (n: number) => Array.from({ length: n }, pickCommon).join(' ');
  const out: Lookup[] = [];
  for (let tries = 0; out.length < count; tries++) {
    if (tries > count * 1_000) throw new Error(`the fixture has no ${kind} pattern of tenant ${tenant}`);
    const row = fixtureRow(Math.floor(random() * fixes));
    if (row.tenant !== tenant || row.commonOnly !== (kind === 'common')) continue;
    // A common-words-only error has no other word: no tool name, no code, no id.
    const errorText = kind === 'common' ? `${noise(4)} ${row.pattern} ${noise(4)}` : `${row.tool} failed [network]: ${noise(4)} ${row.pattern} ${noise(4)}`;
    out.push({ tenant, tool: row.tool, errorText, planted: row.pattern });
  }
  return out;
}

interface Timing {
  p50: number;
  p99: number;
  hitRate: number;
}

async function time(path: string, queries: Lookup[], cold: boolean): Promise<Timing> {
  const times: number[] = [];
  let hits = 0;
  let memory = cold ? undefined : new MemoryDb({ path });
  if (memory) for (const q of queries.slice(0, 20)) await findKnownIssues(memory, { tenant: q.tenant, tool: q.tool, error_text: q.errorText });
  for (const q of queries) {
    if (cold) memory = new MemoryDb({ path });
    const started = performance.now();
    const matches = await findKnownIssues(memory!, { tenant: q.tenant, tool: q.tool, error_text: q.errorText });
    times.push(performance.now() - started);
    if (matches.some((m) => m.pattern === q.planted)) hits++;
    if (cold) await memory!.close();
  }
  if (!cold) await memory!.close();
  return { p50: median(times), p99: percentile(times, 99), hitRate: hits / queries.length };
}

function line(name: string, value: number, baseline: number, unit: 'ms' | '%'): string {
  const shown = (v: number) => (unit === 'ms' ? fmt(v) : `${(v * 100).toFixed(1)} %`);
  const ratio = baseline > 0 ? (value / baseline).toFixed(2) : 'n/a';
  return `  ${name}: ${shown(value)} (baseline ${shown(baseline)}, ratio ${ratio})`;
}

/** p50 and p99 of check_known_issues at `fixes` learned fixes, against the same lookups at `baselineFixes`. */
export async function benchKnownIssues(fixes = 1_000_000, baselineFixes = 10_000, count = 300): Promise<void> {
  const big = fixture(fixes);
  const small = fixture(baselineFixes);
  console.log(`check_known_issues at ${fixes.toLocaleString('en')} learned fixes; baseline: the same lookups at ${baselineFixes.toLocaleString('en')} (targets p50 < 5 ms, p99 < 20 ms)`);
  if (big.buildMs !== undefined) console.log(`  fixture ${fixes.toLocaleString('en')} fixes built in ${fmt(big.buildMs)} (kept in ${big.path})`);
  const cases: Array<{ name: string; kind: Kind; tenant: string }> = [
    { name: 'rare-word error', kind: 'rare', tenant: TENANTS.big },
    { name: 'common-word-only error', kind: 'common', tenant: TENANTS.big },
    { name: 'rare-word error, small tenant', kind: 'rare', tenant: TENANTS.small },
    { name: 'common-word-only error, small tenant', kind: 'common', tenant: TENANTS.small },
  ];
  for (const c of cases) {
    for (const cold of [false, true]) {
      const n = cold ? Math.ceil(count / 3) : count;
      const value = await time(big.path, lookups(fixes, c.kind, c.tenant, n), cold);
      const base = await time(small.path, lookups(baselineFixes, c.kind, c.tenant, n), cold);
      const label = `${c.name}, ${cold ? 'cold' : 'warm'}`;
      console.log(line(`${label} p50`, value.p50, base.p50, 'ms'));
      console.log(line(`${label} p99`, value.p99, base.p99, 'ms'));
      console.log(line(`${label} planted fix found`, value.hitRate, base.hitRate, '%'));
    }
  }
}

// `node --import tsx bench/known-issues.ts [fixes]` runs this bench alone.
if (import.meta.url === `file://${process.argv[1]}`) await benchKnownIssues(Number(process.argv[2] ?? 1_000_000));
