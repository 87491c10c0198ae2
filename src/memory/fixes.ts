import { nowIso, type MemoryDb } from './store.js';

export interface LearnedFix {
  id: number;
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
  times_matched: number;
  times_fixed: number;
}

export function learnFix(
  mem: MemoryDb,
  fix: { tool: string; error_pattern: string; root_cause: string; fix: string },
): { fix: LearnedFix; created: boolean } {
  const now = nowIso();
  const row = {
    tool: fix.tool,
    error_pattern: mem.redact(fix.error_pattern),
    root_cause: mem.redact(fix.root_cause),
    fix: mem.redact(fix.fix),
    now,
  };
  const upsert = mem.db.transaction(() => {
    const existing = mem.db.prepare('SELECT id FROM learned_fixes WHERE tool = ? AND error_pattern = ?').get(row.tool, row.error_pattern) as { id: number } | undefined;
    if (existing) {
      mem.db
        .prepare('UPDATE learned_fixes SET root_cause = @root_cause, fix = @fix, times_fixed = times_fixed + 1, updated_at = @now WHERE id = @id')
        .run({ ...row, id: existing.id });
    } else {
      mem.db
        .prepare(
          'INSERT INTO learned_fixes (tool, error_pattern, root_cause, fix, times_fixed, created_at, updated_at) VALUES (@tool, @error_pattern, @root_cause, @fix, 1, @now, @now)',
        )
        .run(row);
    }
    const saved = mem.db.prepare('SELECT * FROM learned_fixes WHERE tool = ? AND error_pattern = ?').get(row.tool, row.error_pattern) as LearnedFix;
    return { fix: saved, created: !existing };
  });
  return upsert.immediate();
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

/** Words worth searching for: lower case, de-duplicated, no stop words, at most 24. */
const WORD = /[\p{L}\p{N}_]+/gu;

export function searchTerms(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}_]{2,}/gu) ?? [];
  return [...new Set(words.filter((w) => !STOP_WORDS.has(w)))].slice(0, 24);
}

/** FTS5 query that matches any term; each term quoted so no word is read as an operator. */
function ftsQuery(terms: string[]): string {
  return terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(' OR ');
}

/** `quay_get_tag` belongs to topic/family `quay`; `app-interface` to `appinterface`. */
function family(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_]/g, '').split('_')[0] ?? '';
}

const CANDIDATES = 40;
/** Most index entries a lookup ranks; words beyond it are too common to tell fixes apart. */
const POSTINGS_BUDGET = 2_000;

type VocabTable = 'learned_fixes_vocab' | 'known_issues_vocab';

/** Each searchable table: its index, word counts, and the columns an error text is matched against. */
const SEARCHABLE = {
  learned_fixes: { fts: 'learned_fixes_fts', vocab: 'learned_fixes_vocab', columns: '{error_pattern root_cause}' },
  known_issues: { fts: 'known_issues_fts', vocab: 'known_issues_vocab', columns: '{pattern meaning}' },
} as const;

/** Rows whose text shares the error's discriminating words, best first by BM25 (at most CANDIDATES). */
function textCandidates<T>(mem: MemoryDb, table: keyof typeof SEARCHABLE, terms: string[]): T[] {
  if (!terms.length) return [];
  const { fts, vocab, columns } = SEARCHABLE[table];
  const query = discriminatingQuery(mem, vocab, terms);
  if (!query) return [];
  // Rank inside the index first, then fetch the few rows: a join would read every match.
  return mem
    .statement(`SELECT * FROM ${table} WHERE id IN (SELECT rowid FROM ${fts} WHERE ${fts} MATCH ? ORDER BY bm25(${fts}, 0.5, 10, 2, 1) LIMIT ${CANDIDATES})`)
    .all(`${columns}: (${query})`) as T[];
}

/**
 * The FTS query for an error text: its rarest indexed words first, as many as stay within the
 * postings budget, so a lookup ranks a few thousand entries at most however large the history.
 * When even the rarest word is that common, fixes must contain the three rarest words together.
 */
function discriminatingQuery(mem: MemoryDb, vocabTable: VocabTable, terms: string[]): string | undefined {
  const frequencies = terms
    .map((term) => ({ term, doc: documentFrequency(mem, vocabTable, term) }))
    .filter((f) => f.doc > 0)
    .sort((a, b) => a.doc - b.doc);
  if (!frequencies.length) return undefined;
  if (frequencies[0]!.doc > POSTINGS_BUDGET) return frequencies.slice(0, 3).map((f) => ftsQuery([f.term])).join(' AND ');
  const picked: string[] = [];
  let postings = 0;
  for (const { term, doc } of frequencies) {
    if (postings + doc > POSTINGS_BUDGET) break;
    picked.push(term);
    postings += doc;
  }
  return ftsQuery(picked);
}

/**
 * Counting a word's documents costs time in proportion to how common it is, so the counts of
 * common words are kept for a while: they change slowly, and only steer which words to search.
 */
const FREQUENCY_TTL_MS = 10 * 60_000;
const frequencyCache = new WeakMap<MemoryDb, Map<string, { doc: number; at: number }>>();

function documentFrequency(mem: MemoryDb, vocabTable: VocabTable, term: string): number {
  let cache = frequencyCache.get(mem);
  if (!cache) frequencyCache.set(mem, (cache = new Map()));
  const key = `${vocabTable}:${term}`;
  const now = Date.now();
  const cached = cache.get(key);
  if (cached && now - cached.at < FREQUENCY_TTL_MS) return cached.doc;
  const row = mem.statement(`SELECT doc FROM ${vocabTable} WHERE term = ?`).get(term) as { doc: number } | undefined;
  const doc = row?.doc ?? 0;
  if (doc > 100) cache.set(key, { doc, at: now });
  return doc;
}

/**
 * Rank learned fixes and known issues for a tool and an error text. FTS5 narrows the candidates
 * so this stays fast with a large history; the score and its reasons are computed here.
 */
export function findKnownIssues(mem: MemoryDb, query: { tool?: string; error_text?: string; limit?: number }): IssueMatch[] {
  const tool = query.tool?.trim() ?? '';
  const errorText = query.error_text?.trim() ?? '';
  const terms = searchTerms(errorText);
  const limit = query.limit ?? 5;
  const toolFamily = tool ? family(tool) : '';

  const fixRows = new Map<number, LearnedFix>();
  const issueRows = new Map<number, KnownIssue>();
  for (const row of textCandidates<LearnedFix>(mem, 'learned_fixes', terms)) fixRows.set(row.id, row);
  for (const row of textCandidates<KnownIssue>(mem, 'known_issues', terms)) issueRows.set(row.id, row);
  if (tool) {
    // One indexed query per name (tool, then its family): an OR would sort every row of the tool.
    const byTool = mem.statement(`SELECT * FROM learned_fixes WHERE tool = ? ORDER BY times_fixed DESC, id DESC LIMIT ${CANDIDATES}`);
    for (const name of new Set([tool, toolFamily])) for (const row of byTool.all(name) as LearnedFix[]) fixRows.set(row.id, row);
    for (const row of mem.db
      .prepare(`SELECT * FROM known_issues WHERE topic IN (?, ?, ?) ORDER BY id LIMIT ${CANDIDATES}`)
      .all(tool, toolFamily, tool.replace(/[_-]/g, '')) as KnownIssue[])
      issueRows.set(row.id, row);
  }

  const lowerError = errorText.toLowerCase();
  const errorWords = new Set(lowerError.match(WORD) ?? []);
  const score = (subject: string, pattern: string, text: string): { score: number; why: string[] } => {
    const why: string[] = [];
    let points = 0;
    const lowerPattern = pattern.toLowerCase();
    if (lowerError && lowerPattern && lowerError.includes(lowerPattern)) {
      points += 10;
      why.push(`the error text contains "${pattern}"`);
    } else if (lowerError && lowerPattern && hasEveryWord(errorWords, pattern)) {
      points += 8;
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
    return { score: points, why };
  };

  const matches: IssueMatch[] = [];
  for (const f of fixRows.values()) {
    const s = score(f.tool, f.error_pattern, `${f.root_cause} ${f.fix}`);
    if (s.score > 0) matches.push({ kind: 'learned_fix', id: f.id, tool: f.tool, pattern: f.error_pattern, root_cause: f.root_cause, fix: f.fix, score: s.score + Math.min(f.times_fixed, 5) * 0.1, why: s.why, times_matched: f.times_matched, times_fixed: f.times_fixed });
  }
  for (const k of issueRows.values()) {
    const s = score(k.topic, k.pattern, `${k.meaning} ${k.fix}`);
    if (s.score > 0) matches.push({ kind: 'known_issue', id: k.id, tool: k.topic, pattern: k.pattern, root_cause: k.meaning, fix: k.fix, score: s.score, why: s.why, times_matched: k.times_matched, times_fixed: 0 });
  }
  // With an error text, a bare tool match is only context: keep it only when nothing closer exists.
  const strong = errorText ? matches.filter((m) => m.why.some((w) => !w.startsWith('same '))) : matches;
  return (strong.length ? strong : matches).sort((a, b) => b.score - a.score || b.times_fixed - a.times_fixed || a.id - b.id).slice(0, limit);
}

/**
 * Patterns are plain text, never regular expressions: a pattern someone stored must not be able
 * to hang the server on every failure (catastrophic backtracking).
 */
function hasEveryWord(errorWords: ReadonlySet<string>, pattern: string): boolean {
  const words = pattern.toLowerCase().match(WORD) ?? [];
  return words.length > 0 && words.every((w) => errorWords.has(w));
}
