/**
 * Where the two memory backends' SQL differs. Queries are written once in SQLite's spelling with
 * positional `?` parameters; the PostgreSQL store rewrites the few spellings it lacks here, and the
 * pieces with no common spelling (full-text search, JSON lists, substring position) are built here.
 */

export type Backend = 'sqlite' | 'postgresql';

/**
 * SQLite's spelling to PostgreSQL's: `?` to `$n`; `x IS ?` (null-safe equality) to
 * `x IS NOT DISTINCT FROM $n`; `? IS NULL` (an optional filter) typed as text, which PostgreSQL
 * cannot infer. Text in quotes is left alone.
 */
export function toPostgres(sql: string): string {
  let out = '';
  let n = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'") {
      const end = sql.indexOf("'", i + 1);
      const stop = end < 0 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === '?') {
      n++;
      const typed = /^\s+IS\s+NULL\b/i.test(sql.slice(i + 1, i + 12)) ? `$${n}::text` : `$${n}`;
      out = out.replace(/\bIS\s+$/i, 'IS NOT DISTINCT FROM ') + typed;
      i++;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** The rows of a JSON array parameter, as a subquery: `id IN (${jsonValues(backend, 'int')})`. */
export function jsonValues(backend: Backend, type: 'text' | 'int'): string {
  if (backend === 'sqlite') return 'SELECT value FROM json_each(?)';
  return type === 'int' ? 'SELECT v::bigint FROM json_array_elements_text(?::json) AS t(v)' : 'SELECT v FROM json_array_elements_text(?::json) AS t(v)';
}

/** Position of `needle` in `haystack` (1-based, 0 when absent). */
export function position(backend: Backend, haystack: string, needle: string): string {
  return backend === 'sqlite' ? `instr(${haystack}, ${needle})` : `strpos(${haystack}, ${needle})`;
}

/** A number inside a JSON text column (`$.count`), NULL when absent. */
export function jsonNumber(backend: Backend, column: string, field: string): string {
  return backend === 'sqlite' ? `json_extract(${column}, '$.${field}')` : `(${column}::jsonb ->> '${field}')::bigint`;
}

/** The column names of a table, as rows of `name`. */
export function tableColumns(backend: Backend): string {
  return backend === 'sqlite' ? 'SELECT name FROM pragma_table_info(?)' : 'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?';
}

/**
 * Word search over learned fixes (error_pattern, root_cause; per tenant) and known issues (pattern,
 * meaning; shared). SQLite: the FTS5 tables of migrations 1 and 6, the tenant a token inside the
 * index. PostgreSQL: a generated `search` tsvector with a GIN index, the tenant a plain column.
 * Terms are words of letters and digits (the caller splits at "_"), so they are never syntax; they
 * are still quoted for FTS5.
 */
export interface WordSearch {
  /** Rows matching one term, LIMIT the cap: the count says how common a word is. */
  count(term: string, cap: number, tenant?: string): { sql: string; params: unknown[] };
  /** Ids of rows with every (`all`) or any (`any`) term; `ranked` orders by relevance. */
  ids(terms: readonly string[], mode: 'all' | 'any', limit: number, options: { tenant?: string | undefined; ranked?: boolean }): { sql: string; params: unknown[] };
}

export type SearchableTable = 'learned_fixes' | 'known_issues';

const FTS = {
  learned_fixes: { fts: 'learned_fixes_fts', columns: '{error_pattern root_cause}', weights: '' },
  known_issues: { fts: 'known_issues_fts', columns: '{pattern meaning}', weights: '0.5, 10, 2, 1' },
} as const;

/** FTS5 query that matches any/every term; each term quoted so no word is read as an operator. */
function ftsQuery(terms: readonly string[], join: ' OR ' | ' AND '): string {
  return terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(join);
}

/** The FTS5 index token of a tenant: hex, so no tenant name can read as another's or as query syntax. */
function tenantToken(tenant: string): string {
  return `t${Buffer.from(tenant, 'utf8').toString('hex')}`;
}

export function wordSearch(backend: Backend, table: SearchableTable): WordSearch {
  if (backend === 'sqlite') {
    const { fts, columns, weights } = FTS[table];
    const match = (terms: readonly string[], join: ' OR ' | ' AND ', tenant?: string) =>
      `${tenant === undefined ? '' : `{tenant_key}: "${tenantToken(tenant)}" AND `}${columns}: (${ftsQuery(terms, join)})`;
    return {
      count: (term, cap, tenant) => ({ sql: `SELECT count(*) AS n FROM (SELECT 1 FROM ${fts} WHERE ${fts} MATCH ? LIMIT ${cap})`, params: [match([term], ' OR ', tenant)] }),
      ids: (terms, mode, limit, { tenant, ranked }) => ({
        sql: `SELECT rowid AS id FROM ${fts} WHERE ${fts} MATCH ?${ranked ? ` ORDER BY bm25(${fts}, ${weights})` : ''} LIMIT ${limit}`,
        params: [match(terms, mode === 'all' ? ' AND ' : ' OR ', tenant)],
      }),
    };
  }
  const scope = (tenant: string | undefined) => (tenant === undefined ? '' : ' AND tenant = ?');
  const tsquery = (terms: readonly string[], mode: 'all' | 'any') => terms.map((t) => t.replace(/[^\p{L}\p{N}]/gu, '')).filter(Boolean).join(mode === 'all' ? ' & ' : ' | ');
  return {
    count: (term, cap, tenant) => ({
      sql: `SELECT count(*) AS n FROM (SELECT 1 FROM ${table} WHERE search @@ to_tsquery('simple', ?)${scope(tenant)} LIMIT ${cap}) AS probe`,
      params: [tsquery([term], 'any'), ...(tenant === undefined ? [] : [tenant])],
    }),
    ids: (terms, mode, limit, { tenant, ranked }) => ({
      sql: `SELECT id FROM ${table} WHERE search @@ to_tsquery('simple', ?)${scope(tenant)}${ranked ? ` ORDER BY ts_rank(search, to_tsquery('simple', ?)) DESC, id` : ''} LIMIT ${limit}`,
      params: [tsquery(terms, mode), ...(tenant === undefined ? [] : [tenant]), ...(ranked ? [tsquery(terms, mode)] : [])],
    }),
  };
}
