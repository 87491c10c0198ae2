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
export function learnFix(
  mem: MemoryDb,
  teacher: Teacher,
  fix: { tool: string; error_pattern: string; root_cause: string; fix: string },
): { fix: LearnedFix; created: boolean } {
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
  const upsert = mem.db.transaction(() => {
    const existing = mem.statement('SELECT id FROM learned_fixes WHERE tenant = ? AND tool = ? AND error_pattern = ?').get(row.tenant, row.tool, row.error_pattern) as { id: number } | undefined;
    if (existing) {
      mem
        .statement('UPDATE learned_fixes SET root_cause = @root_cause, fix = @fix, taught_by = @taught_by, times_fixed = times_fixed + 1, updated_at = @now WHERE id = @id')
        .run({ ...row, id: existing.id });
    } else {
      mem
        .statement(
          `INSERT INTO learned_fixes (tenant, taught_by, tool, error_pattern, pattern_words, pattern_lead, root_cause, fix, times_fixed, created_at, updated_at)
           VALUES (@tenant, @taught_by, @tool, @error_pattern, @pattern_words, @pattern_lead, @root_cause, @fix, 1, @now, @now)`,
        )
        .run(row);
    }
    const saved = mem.statement(`SELECT ${FIX_COLUMNS} FROM learned_fixes WHERE tenant = ? AND tool = ? AND error_pattern = ?`).get(row.tenant, row.tool, row.error_pattern) as LearnedFix;
    return { fix: saved, created: !existing };
  });
  return upsert.immediate();
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
export function indexLegacyFixes(mem: MemoryDb): number {
  const legacy = mem.statement("SELECT id, error_pattern FROM learned_fixes WHERE pattern_lead = '' AND taught_by = 'unrecorded'");
  if (!legacy.get()) return 0;
  const update = mem.db.prepare('UPDATE learned_fixes SET pattern_words = ?, pattern_lead = ? WHERE id = ?');
  // Under the write lock: two servers opening the file at once index each row once.
  const index = mem.db.transaction(() => {
    const rows = legacy.all() as Array<{ id: number; error_pattern: string }>;
    for (const { id, error_pattern } of rows) {
      const { pattern_words, pattern_lead } = patternIndex(error_pattern);
      update.run(pattern_words, pattern_lead, id);
    }
    return rows.length;
  });
  return index.immediate();
}

/** Known issues come from knowledge files: replace those of one source at once. */
export function replaceKnownIssues(mem: MemoryDb, source: string, issues: ReadonlyArray<Omit<KnownIssue, 'id' | 'source' | 'times_matched'>>): void {
  const replace = mem.db.transaction(() => {
    mem.db.prepare('DELETE FROM known_issues WHERE source = ?').run(source);
    const insert = mem.db.prepare(
      'INSERT INTO known_issues (topic, pattern, meaning, fix, source) VALUES (@topic, @pattern, @meaning, @fix, @source) ON CONFLICT (topic, pattern) DO UPDATE SET meaning = excluded.meaning, fix = excluded.fix, source = excluded.source',
    );
    for (const issue of issues) insert.run({ ...issue, source });
  });
  replace.immediate();
}

/** Count that these matches were shown for a real failure; and, when `fixed`, that the fix worked. */
export function countMatches(mem: MemoryDb, matches: ReadonlyArray<Pick<IssueMatch, 'kind' | 'id'>>): void {
  const bump = mem.db.transaction(() => {
    for (const m of matches) {
      const table = m.kind === 'learned_fix' ? 'learned_fixes' : 'known_issues';
      mem.db.prepare(`UPDATE ${table} SET times_matched = times_matched + 1 WHERE id = ?`).run(m.id);
    }
  });
  bump.immediate();
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

/** FTS query that matches any term; each term quoted so no word is read as an operator. */
function ftsQuery(terms: string[]): string {
  return terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(' OR ');
}

/** The index token of a tenant: hex, so no tenant name can read as another's or as query syntax. */
function tenantToken(tenant: string): string {
  return `t${Buffer.from(tenant, 'utf8').toString('hex')}`;
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

/** Each searchable index: the columns an error text is matched against and their BM25 weights. */
const SEARCHABLE = {
  learned_fixes: { fts: 'learned_fixes_fts', columns: '{error_pattern root_cause}', weights: '' },
  known_issues: { fts: 'known_issues_fts', columns: '{pattern meaning}', weights: '0.5, 10, 2, 1' },
} as const;

/**
 * Row ids whose text shares the error's discriminating words, at most CANDIDATES: known issues
 * best first by BM25; a tenant's learned fixes those with the rarest word first. Learned fixes
 * are searched within one tenant: the tenant token is part of the query, so another tenant's
 * fixes can neither be returned nor crowd this tenant's out.
 */
function wordCandidates(mem: MemoryDb, table: keyof typeof SEARCHABLE, terms: string[], tenant?: string): number[] {
  // The index splits words at "_" (unicode61), and a two-token phrase needs positions it does not keep.
  const tokens = [...new Set(terms.flatMap((t) => t.split('_')).filter((t) => t.length >= 2 && !STOP_WORDS.has(t)))];
  if (!tokens.length) return [];
  const { fts, columns, weights } = SEARCHABLE[table];
  const scope = tenant === undefined ? '' : `{tenant_key}: "${tenantToken(tenant)}" AND `;
  const picked = discriminatingTerms(mem, fts, tokens, (term) => `${columns}: ${ftsQuery([term])}`, scope ? (term) => `${scope}${columns}: ${ftsQuery([term])}` : undefined);
  if (!picked.length) return [];
  if (!scope) {
    const rows = mem.statement(`SELECT rowid AS id FROM ${fts} WHERE ${fts} MATCH ? ORDER BY bm25(${fts}, ${weights}) LIMIT ${CANDIDATES}`).all(`${columns}: (${ftsQuery(picked)})`) as Array<{ id: number }>;
    return rows.map((r) => r.id);
  }
  // BM25 would count the rows of every phrase in the query, the tenant token's too (all of a large
  // tenant's fixes); rarest word first ranks the same way by what matters most, and the score does the rest.
  const ids = new Set<number>();
  const byWord = mem.statement(`SELECT rowid AS id FROM ${fts} WHERE ${fts} MATCH ? LIMIT ?`);
  // Fixes with every picked word first (they are the closest), then by the rarest word.
  const queries = [...(picked.length > 1 ? [picked.map((t) => ftsQuery([t])).join(' AND ')] : []), ...picked.map((t) => ftsQuery([t]))];
  for (const query of queries) {
    if (ids.size >= WORD_CANDIDATES) break;
    for (const { id } of byWord.all(`${scope}${columns}: (${query})`, WORD_CANDIDATES) as Array<{ id: number }>) {
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
function discriminatingTerms(mem: MemoryDb, fts: string, terms: string[], everyone: (term: string) => string, withinTenant?: (term: string) => string): string[] {
  const probe = mem.statement(`SELECT count(*) AS n FROM (SELECT 1 FROM ${fts} WHERE ${fts} MATCH ? LIMIT ${POSTINGS_BUDGET + 1})`);
  const count = (query: string) => (probe.get(query) as { n: number }).n;
  const counted = terms
    .map((term) => {
      const doc = count(everyone(term));
      return { term, doc: doc > POSTINGS_BUDGET && withinTenant ? count(withinTenant(term)) : doc };
    })
    .filter((f) => f.doc > 0 && f.doc <= POSTINGS_BUDGET)
    .sort((a, b) => a.doc - b.doc);
  const picked: string[] = [];
  let postings = 0;
  for (const { term, doc } of counted) {
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
function containedCandidates(mem: MemoryDb, tenant: string, errorWords: readonly string[]): LearnedFix[] {
  if (!errorWords.length) return [];
  return mem
    .statement(
      `SELECT ${FIX_COLUMNS} FROM learned_fixes
       WHERE tenant = ? AND pattern_lead IN (SELECT value FROM json_each(?)) AND pattern_words != '' AND instr(?, ' ' || pattern_words || ' ') > 0
       LIMIT ${CONTAINED_CANDIDATES}`,
    )
    .all(tenant, JSON.stringify(leadWindows(errorWords)), ` ${errorWords.join(' ')} `) as LearnedFix[];
}

function rowsById<T>(mem: MemoryDb, table: 'learned_fixes' | 'known_issues', columns: string, ids: readonly number[]): T[] {
  if (!ids.length) return [];
  return mem.statement(`SELECT ${columns} FROM ${table} WHERE id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(ids)) as T[];
}

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
export function findKnownIssues(mem: MemoryDb, query: KnownIssueQuery): IssueMatch[] {
  const { tenant } = query;
  const tool = query.tool?.trim() ?? '';
  const errorText = query.error_text?.trim() ?? '';
  const terms = searchTerms(errorText);
  const limit = query.limit ?? 5;
  const toolFamily = tool ? family(tool) : '';

  const fixRows = new Map<number, LearnedFix>();
  const issueRows = new Map<number, KnownIssue>();
  for (const row of containedCandidates(mem, tenant, errorPatternWords(errorText))) fixRows.set(row.id, row);
  const wordIds = wordCandidates(mem, 'learned_fixes', terms, tenant).filter((id) => !fixRows.has(id));
  for (const row of rowsById<LearnedFix>(mem, 'learned_fixes', FIX_COLUMNS, wordIds)) fixRows.set(row.id, row);
  for (const row of rowsById<KnownIssue>(mem, 'known_issues', '*', wordCandidates(mem, 'known_issues', terms))) issueRows.set(row.id, row);
  // Fixes of the same tool whose pattern is not in the error are context only: a few when there is
  // an error text, none when only matches on the error text are wanted.
  const toolContext = !errorText ? CANDIDATES : query.onErrorTextOnly ? 0 : TOOL_CONTEXT;
  if (tool && toolContext) {
    // One indexed query per name (tool, then its family): an OR would sort every row of the tool.
    const byTool = mem.statement(`SELECT ${FIX_COLUMNS} FROM learned_fixes WHERE tenant = ? AND tool = ? ORDER BY times_fixed DESC, id DESC LIMIT ${toolContext}`);
    for (const name of new Set([tool, toolFamily])) for (const row of byTool.all(tenant, name) as LearnedFix[]) fixRows.set(row.id, row);
    for (const row of mem
      .statement(`SELECT * FROM known_issues WHERE topic IN (?, ?, ?) ORDER BY id LIMIT ${toolContext}`)
      .all(tool, toolFamily, tool.replace(/[_-]/g, '')) as KnownIssue[])
      issueRows.set(row.id, row);
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
