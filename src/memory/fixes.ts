import { jsonValues, position, wordSearch, type SearchableTable } from './dialect.js';
import { nowIso, type MemoryDb } from './store.js';

export interface LearnedFix {
  id: number;
  /** The tenant whose fix this is; other tenants never see it. */
  tenant: string;
  /** Who taught it: the principal subject (OS user on stdio, token name over HTTP). */
  taught_by: string;
  tool: string;
  error_pattern: string;
  root_cause: string;
  fix: string;
  times_matched: number;
  times_fixed: number;
  created_at: string;
  updated_at: string;
}

export interface KnownIssue {
  id: number;
  topic: string;
  pattern: string;
  meaning: string;
  fix: string;
  source: string;
  times_matched: number;
}

export interface IssueMatch {
  kind: 'learned_fix' | 'known_issue';
  id: number;
  /** Tool for a learned fix, topic for a known issue. */
  tool: string;
  pattern: string;
  root_cause: string;
  fix: string;
  score: number;
  why: string[];
  /** The pattern itself was found in the error text (not only the tool or a few shared words). */
  on_error_text: boolean;
  /** Who taught a learned fix; absent for the operator's known issues. */
  taught_by?: string;
  times_matched: number;
  times_fixed: number;
}

/** Whose fix: the tenant it belongs to and the principal subject that taught it. */
export interface Teacher {
  tenant: string;
  subject: string;
}

const FIX_COLUMNS = 'id, tenant, taught_by, tool, error_pattern, root_cause, fix, times_matched, times_fixed, created_at, updated_at';

/** A tenant's fix for (tool, pattern) is one row: teaching it again updates it and counts it. */
export async function learnFix(
  mem: MemoryDb,
  teacher: Teacher,
  fix: { tool: string; error_pattern: string; root_cause: string; fix: string },
): Promise<{ fix: LearnedFix; created: boolean }> {
  const now = nowIso();
  const errorPattern = mem.redact(fix.error_pattern);
  const row = {
    tenant: teacher.tenant,
    taught_by: teacher.subject,
    tool: fix.tool,
    error_pattern: errorPattern,
    ...patternIndex(errorPattern),
    root_cause: mem.redact(fix.root_cause),
    fix: mem.redact(fix.fix),
    now,
  };
  return mem.transaction(async () => {
    // Two processes teaching the same fix at once: the second waits, then updates the first's row.
    await mem.lock(`learned_fix:${row.tenant}:${row.tool}:${row.error_pattern}`);
    const existing = await mem.get<{ id: number }>('SELECT id FROM learned_fixes WHERE tenant = ? AND tool = ? AND error_pattern = ?', row.tenant, row.tool, row.error_pattern);
    if (existing) {
      await mem.run('UPDATE learned_fixes SET root_cause = ?, fix = ?, taught_by = ?, times_fixed = times_fixed + 1, updated_at = ? WHERE id = ?', row.root_cause, row.fix, row.taught_by, row.now, existing.id);
    } else {
      await mem.run(
        `INSERT INTO learned_fixes (tenant, taught_by, tool, error_pattern, pattern_words, pattern_lead, root_cause, fix, times_fixed, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
        row.tenant, row.taught_by, row.tool, row.error_pattern, row.pattern_words, row.pattern_lead, row.root_cause, row.fix, row.now, row.now,
      );
    }
    const saved = (await mem.get<LearnedFix>(`SELECT ${FIX_COLUMNS} FROM learned_fixes WHERE tenant = ? AND tool = ? AND error_pattern = ?`, row.tenant, row.tool, row.error_pattern))!;
    return { fix: saved, created: !existing };
  });
}

/** The index columns of a pattern: its words, and the first of them that it is looked up by. */
export function patternIndex(errorPattern: string): { pattern_words: string; pattern_lead: string } {
  const words = patternWords(errorPattern);
  return { pattern_words: words.join(' '), pattern_lead: words.slice(0, LEAD_WORDS).join(' ') };
}

/**
 * Fixes learned before migration 6 have no pattern index yet (it needs patternIndex, not SQL):
 * fill it at open. A no-op once done.
 */
export async function indexLegacyFixes(mem: MemoryDb): Promise<number> {
  const legacy = "SELECT id, error_pattern FROM learned_fixes WHERE pattern_lead = '' AND taught_by = 'unrecorded'";
  if (!(await mem.get(legacy))) return 0;
  // Under the write lock: two servers opening the file at once index each row once.
  return mem.transaction(async () => {
    await mem.lock('learned_fixes:legacy_index');
    const rows = await mem.all<{ id: number; error_pattern: string }>(legacy);
    for (const { id, error_pattern } of rows) {
      const { pattern_words, pattern_lead } = patternIndex(error_pattern);
      await mem.run('UPDATE learned_fixes SET pattern_words = ?, pattern_lead = ? WHERE id = ?', pattern_words, pattern_lead, id);
    }
    return rows.length;
  });
}

/** Known issues come from knowledge files: replace those of one source at once. */
export async function replaceKnownIssues(mem: MemoryDb, source: string, issues: ReadonlyArray<Omit<KnownIssue, 'id' | 'source' | 'times_matched'>>): Promise<void> {
  await mem.transaction(async () => {
    await mem.run('DELETE FROM known_issues WHERE source = ?', source);
    for (const issue of issues) {
      await mem.run(
        'INSERT INTO known_issues (topic, pattern, meaning, fix, source) VALUES (?, ?, ?, ?, ?) ON CONFLICT (topic, pattern) DO UPDATE SET meaning = excluded.meaning, fix = excluded.fix, source = excluded.source',
        issue.topic, issue.pattern, issue.meaning, issue.fix, source,
      );
    }
  });
}

/** Count that these matches were shown for a real failure; and, when `fixed`, that the fix worked. */
export async function countMatches(mem: MemoryDb, matches: ReadonlyArray<Pick<IssueMatch, 'kind' | 'id'>>): Promise<void> {
  await mem.transaction(async () => {
    for (const m of matches) {
      const table = m.kind === 'learned_fix' ? 'learned_fixes' : 'known_issues';
      await mem.run(`UPDATE ${table} SET times_matched = times_matched + 1 WHERE id = ?`, m.id);
    }
  });
}

const STOP_WORDS = new Set(['the', 'a', 'an', 'is', 'to', 'of', 'in', 'on', 'for', 'and', 'or', 'not', 'at', 'be', 'with', 'it', 'this', 'that', 'was', 'by', 'as', 'from']);

const WORD = /[\p{L}\p{N}_]+/gu;

/** Words worth searching for: lower case, de-duplicated, no stop words, at most 24. */
export function searchTerms(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}_]{2,}/gu) ?? [];
  return [...new Set(words.filter((w) => !STOP_WORDS.has(w)))].slice(0, 24);
}

/** A pattern's words in order (stop words kept: they are part of the text), lower case. */
function patternWords(text: string): string[] {
  return (text.toLowerCase().match(WORD) ?? []).slice(0, MAX_PATTERN_WORDS);
}

/** An error's words in order, as patterns are stored, to find the patterns that appear in it. */
function errorPatternWords(text: string): string[] {
  return (text.toLowerCase().match(WORD) ?? []).slice(0, MAX_ERROR_WORDS);
}

const MAX_ERROR_WORDS = 4_000;

/** A fix is indexed under its pattern's first words; an error is looked up under each run of its words that long. */
const LEAD_WORDS = 3;
const MAX_PATTERN_WORDS = 64;
/** Leads are looked up from the first words of an error: where the failure is named. */
const MAX_LEAD_WINDOW_WORDS = 160;

/** Every run of 1..LEAD_WORDS consecutive words among the first MAX_LEAD_WINDOW_WORDS of an error. */
function leadWindows(words: readonly string[]): string[] {
  const windows = new Set<string>();
  const head = words.slice(0, MAX_LEAD_WINDOW_WORDS);
  for (let i = 0; i < head.length; i++) {
    for (let n = 1; n <= LEAD_WORDS && i + n <= head.length; n++) windows.add(head.slice(i, i + n).join(' '));
  }
  return [...windows];
}

/** `quay_get_tag` belongs to topic/family `quay`; `app-interface` to `appinterface`. */
function family(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_]/g, '').split('_')[0] ?? '';
}

const CANDIDATES = 40;
const TOOL_CONTEXT = 10;
/** Learned fixes a word search adds: those whose pattern is in the error come from the pattern index. */
const WORD_CANDIDATES = 20;
/** Fixes whose pattern appears in the error: more than this many is a pattern too vague to help. */
const CONTAINED_CANDIDATES = 200;
/** Most index entries a word search ranks; a word in more fixes than this does not tell them apart. */
const POSTINGS_BUDGET = 200;

/**
 * Row ids whose text shares the error's discriminating words, at most CANDIDATES: known issues
 * best first by relevance (BM25 on SQLite); a tenant's learned fixes those with the rarest word
 * first. Learned fixes are searched within one tenant (dialect.ts keeps how), so another tenant's
 * fixes can neither be returned nor crowd this tenant's out.
 */
async function wordCandidates(mem: MemoryDb, table: SearchableTable, terms: string[], tenant?: string): Promise<number[]> {
  // The index splits words at "_" (unicode61), and a two-token phrase needs positions it does not keep.
  const tokens = [...new Set(terms.flatMap((t) => t.split('_')).filter((t) => t.length >= 2 && !STOP_WORDS.has(t)))];
  if (!tokens.length) return [];
  const search = wordSearch(mem.backend, table);
  const picked = await discriminatingTerms(mem, search, tokens, tenant);
  if (!picked.length) return [];
  if (tenant === undefined) {
    const { sql, params } = search.ids(picked, 'any', CANDIDATES, { ranked: true });
    return (await mem.all<{ id: number }>(sql, ...params)).map((r) => r.id);
  }
  // BM25 would count the rows of every phrase in the query, the tenant token's too (all of a large
  // tenant's fixes); rarest word first ranks the same way by what matters most, and the score does the rest.
  const ids = new Set<number>();
  // Fixes with every picked word first (they are the closest), then by the rarest word.
  const queries: Array<{ terms: string[]; mode: 'all' | 'any' }> = [...(picked.length > 1 ? [{ terms: picked, mode: 'all' as const }] : []), ...picked.map((t) => ({ terms: [t], mode: 'any' as const }))];
  for (const query of queries) {
    if (ids.size >= WORD_CANDIDATES) break;
    const { sql, params } = search.ids(query.terms, query.mode, WORD_CANDIDATES, { tenant });
    for (const { id } of await mem.all<{ id: number }>(sql, ...params)) {
      if (ids.size >= WORD_CANDIDATES) break;
      ids.add(id);
    }
  }
  return [...ids];
}

/**
 * The error's rarest words, as many as stay within the postings budget, so a search reads a few
 * hundred entries at most however large the history. A word's count is probed with a LIMIT one
 * past the budget: counting a common word's every entry is what made lookups slow. The count
 * over every tenant is probed first (cheapest, and never below the tenant's own); a word common
 * there is probed again within the tenant, where it may be rare (or planted by another tenant).
 * An error made only of common words gets none: its fixes are found by their pattern instead.
 */
async function discriminatingTerms(mem: MemoryDb, search: ReturnType<typeof wordSearch>, terms: string[], tenant: string | undefined): Promise<string[]> {
  const count = async (term: string, within?: string) => {
    const { sql, params } = search.count(term, POSTINGS_BUDGET + 1, within);
    return (await mem.get<{ n: number }>(sql, ...params))!.n;
  };
  const counted: Array<{ term: string; doc: number }> = [];
  for (const term of terms) {
    const doc = await count(term);
    counted.push({ term, doc: doc > POSTINGS_BUDGET && tenant !== undefined ? await count(term, tenant) : doc });
  }
  const ranked = counted.filter((f) => f.doc > 0 && f.doc <= POSTINGS_BUDGET).sort((a, b) => a.doc - b.doc);
  const picked: string[] = [];
  let postings = 0;
  for (const { term, doc } of ranked) {
    if (postings + doc > POSTINGS_BUDGET) break;
    picked.push(term);
    postings += doc;
  }
  return picked;
}

/**
 * A tenant's fixes whose pattern appears, word for word, in the error: looked up in the index by
 * the pattern's first words (every run of up to LEAD_WORDS words of the error is a key), then
 * checked against the whole pattern in the same index. Its cost does not depend on how common
 * the words are, which is what keeps an error made of common words fast.
 */
async function containedCandidates(mem: MemoryDb, tenant: string, errorWords: readonly string[]): Promise<LearnedFix[]> {
  if (!errorWords.length) return [];
  return mem.all<LearnedFix>(
    `SELECT ${FIX_COLUMNS} FROM learned_fixes
     WHERE tenant = ? AND pattern_lead IN (${jsonValues(mem.backend, 'text')}) AND pattern_words != '' AND ${position(mem.backend, '?', "' ' || pattern_words || ' '")} > 0
     LIMIT ${CONTAINED_CANDIDATES}`,
    tenant,
    JSON.stringify(leadWindows(errorWords)),
    ` ${errorWords.join(' ')} `,
  );
}

async function rowsById<T>(mem: MemoryDb, table: 'learned_fixes' | 'known_issues', columns: string, ids: readonly number[]): Promise<T[]> {
  if (!ids.length) return [];
  return mem.all<T>(`SELECT ${columns} FROM ${table} WHERE id IN (${jsonValues(mem.backend, 'int')})`, JSON.stringify(ids));
}

const ISSUE_COLUMNS = 'id, topic, pattern, meaning, fix, source, times_matched';

export interface KnownIssueQuery {
  /** Whose learned fixes to search; known issues (the operator's knowledge files) are shared. */
  tenant: string;
  tool?: string;
  error_text?: string;
  limit?: number;
  /**
   * Only matches whose pattern is in the error text: what a failure report may show as a known
   * fix. Without it, matches on the tool name or on a few shared words are kept as context.
   */
  onErrorTextOnly?: boolean;
}

/**
 * Rank a tenant's learned fixes and the known issues for a tool and an error text. Indexes
 * narrow the candidates so this stays fast with a large history; the score and its reasons are
 * computed here.
 */
export async function findKnownIssues(mem: MemoryDb, query: KnownIssueQuery): Promise<IssueMatch[]> {
  const { tenant } = query;
  const tool = query.tool?.trim() ?? '';
  const errorText = query.error_text?.trim() ?? '';
  const terms = searchTerms(errorText);
  const limit = query.limit ?? 5;
  const toolFamily = tool ? family(tool) : '';

  const fixRows = new Map<number, LearnedFix>();
  const issueRows = new Map<number, KnownIssue>();
  for (const row of await containedCandidates(mem, tenant, errorPatternWords(errorText))) fixRows.set(row.id, row);
  const wordIds = (await wordCandidates(mem, 'learned_fixes', terms, tenant)).filter((id) => !fixRows.has(id));
  for (const row of await rowsById<LearnedFix>(mem, 'learned_fixes', FIX_COLUMNS, wordIds)) fixRows.set(row.id, row);
  for (const row of await rowsById<KnownIssue>(mem, 'known_issues', ISSUE_COLUMNS, await wordCandidates(mem, 'known_issues', terms))) issueRows.set(row.id, row);
  // Fixes of the same tool whose pattern is not in the error are context only: a few when there is
  // an error text, none when only matches on the error text are wanted.
  const toolContext = !errorText ? CANDIDATES : query.onErrorTextOnly ? 0 : TOOL_CONTEXT;
  if (tool && toolContext) {
    // One indexed query per name (tool, then its family): an OR would sort every row of the tool.
    const byTool = `SELECT ${FIX_COLUMNS} FROM learned_fixes WHERE tenant = ? AND tool = ? ORDER BY times_fixed DESC, id DESC LIMIT ${toolContext}`;
    for (const name of new Set([tool, toolFamily])) for (const row of await mem.all<LearnedFix>(byTool, tenant, name)) fixRows.set(row.id, row);
    for (const row of await mem.all<KnownIssue>(`SELECT ${ISSUE_COLUMNS} FROM known_issues WHERE topic IN (?, ?, ?) ORDER BY id LIMIT ${toolContext}`, tool, toolFamily, tool.replace(/[_-]/g, ''))) issueRows.set(row.id, row);
  }

  const lowerError = errorText.toLowerCase();
  const errorWords = new Set(lowerError.match(WORD) ?? []);
  const score = (subject: string, pattern: string, text: string): { score: number; why: string[]; onErrorText: boolean } => {
    const why: string[] = [];
    let points = 0;
    let onErrorText = false;
    const lowerPattern = pattern.toLowerCase();
    if (lowerError && lowerPattern && lowerError.includes(lowerPattern)) {
      points += 10;
      onErrorText = true;
      why.push(`the error text contains "${pattern}"`);
    } else if (lowerError && lowerPattern && hasEveryWord(errorWords, pattern)) {
      points += 8;
      onErrorText = true;
      why.push(`the error text has every word of "${pattern}"`);
    }
    if (tool && subject.toLowerCase() === tool.toLowerCase()) {
      points += 5;
      why.push(`same tool (${subject})`);
    } else if (toolFamily && family(subject) === toolFamily) {
      points += 2;
      why.push(`same family (${toolFamily})`);
    }
    if (terms.length) {
      const haystack = searchTerms(`${pattern} ${text}`);
      const shared = terms.filter((t) => haystack.includes(t));
      if (shared.length) {
        points += Math.min(shared.length, 5);
        why.push(`shared words: ${shared.slice(0, 6).join(', ')}`);
      }
    }
    return { score: points, why, onErrorText };
  };

  const matches: IssueMatch[] = [];
  for (const f of fixRows.values()) {
    const s = score(f.tool, f.error_pattern, `${f.root_cause} ${f.fix}`);
    if (s.score > 0) matches.push({ kind: 'learned_fix', id: f.id, tool: f.tool, pattern: f.error_pattern, root_cause: f.root_cause, fix: f.fix, score: s.score + Math.min(f.times_fixed, 5) * 0.1, why: s.why, on_error_text: s.onErrorText, taught_by: f.taught_by, times_matched: f.times_matched, times_fixed: f.times_fixed });
  }
  for (const k of issueRows.values()) {
    const s = score(k.topic, k.pattern, `${k.meaning} ${k.fix}`);
    if (s.score > 0) matches.push({ kind: 'known_issue', id: k.id, tool: k.topic, pattern: k.pattern, root_cause: k.meaning, fix: k.fix, score: s.score, why: s.why, on_error_text: s.onErrorText, times_matched: k.times_matched, times_fixed: 0 });
  }
  // With an error text, a bare tool match is only context: keep it only when nothing closer exists.
  const strong = errorText ? matches.filter((m) => m.why.some((w) => !w.startsWith('same '))) : matches;
  const kept = query.onErrorTextOnly ? matches.filter((m) => m.on_error_text) : strong.length ? strong : matches;
  return kept.sort((a, b) => b.score - a.score || b.times_fixed - a.times_fixed || a.id - b.id).slice(0, limit);
}

/**
 * Patterns are plain text, never regular expressions: a pattern someone stored must not be able
 * to hang the server on every failure (catastrophic backtracking).
 */
function hasEveryWord(errorWords: ReadonlySet<string>, pattern: string): boolean {
  const words = pattern.toLowerCase().match(WORD) ?? [];
  return words.length > 0 && words.every((w) => errorWords.has(w));
}
