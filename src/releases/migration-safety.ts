import { loadModule, parseSync } from 'libpg-query';
import { quoteIdent } from './migrations-plan.js';
import type { PgSchemaSnapshot } from './pg-schema.js';

/**
 * Safe-migration rules. Each finding names a stable rule id, a severity (an `error` refuses the
 * prepare), what was found and how to do it safely. PostgreSQL SQL (generated or received) is
 * read with the real PostgreSQL parser (libpg-query); data checks count the rows that would make
 * a migration fail or lose data, against the target inside the dry run's transaction.
 */

export const SAFETY_RULES = {
  'drop-table': { fix: 'copy the data elsewhere first, or prepare with allow_data_loss: true (promote backs up the database first)' },
  'drop-column': { fix: 'stop writing the column and copy its values first, or prepare with allow_data_loss: true (promote backs up the database first)' },
  'add-column-not-null-without-default': { fix: 'give the column a default (PostgreSQL 11+ adds it without rewriting the table), or add it nullable, backfill, then SET NOT NULL' },
  'set-not-null-populated': {
    fix: 'add CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT in a later migration, then SET NOT NULL (PostgreSQL 12+ uses the validated check and skips the scan)',
  },
  'not-null-with-nulls': { fix: 'backfill the NULL values (or give them a default) before making the column NOT NULL' },
  'type-change-rewrite': { fix: 'add a new column of the new type, backfill it in batches, switch readers and writers, then drop the old column' },
  'index-not-concurrent': { fix: 'use CREATE INDEX CONCURRENTLY in a migration of its own (release-mcp runs it outside the transaction)' },
  'constraint-not-valid': { fix: 'add the FOREIGN KEY or CHECK with NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT in a later migration' },
  'unique-constraint-without-index': { fix: 'CREATE UNIQUE INDEX CONCURRENTLY first (a migration of its own), then ADD CONSTRAINT ... UNIQUE USING INDEX' },
  'unique-with-duplicates': { fix: 'remove or merge the duplicate rows before adding the unique index or constraint' },
  'missing-lock-timeout': { fix: 'keep releases.lock_timeout_ms above 0 and do not reset lock_timeout inside a migration' },
  'missing-statement-timeout': { fix: 'keep releases.statement_timeout_ms above 0 and do not reset statement_timeout inside a migration' },
} as const;

export type SafetyRule = keyof typeof SAFETY_RULES;

export interface Finding {
  rule: SafetyRule;
  severity: 'error' | 'warning';
  /** 1-based index of the migration in the release. */
  migration: number;
  message: string;
  fix: string;
  /** Rows found by a data check (rows that hold values, nulls, duplicate groups). */
  count?: number;
}

export interface SafetyOptions {
  allow_data_loss: boolean;
  lock_timeout_ms: number;
  statement_timeout_ms: number;
}

/** What the checks read from the target: a COUNT(*) AS n query (undefined when it cannot run there). */
export type Counter = (sql: string) => Promise<number | undefined>;

export interface MigrationCheck {
  findings: Finding[];
  /** False for CREATE INDEX CONCURRENTLY: it must run outside a transaction. */
  transactional: boolean;
  /** Rows or values the migration would lose (drop table/column). */
  data_loss?: { count: number; what: string };
}

const finding = (rule: SafetyRule, severity: Finding['severity'], migration: number, message: string, count?: number): Finding => ({
  rule,
  severity,
  migration,
  message,
  fix: SAFETY_RULES[rule].fix,
  ...(count !== undefined ? { count } : {}),
});

let loaded: Promise<void> | undefined;
/** The parser is WebAssembly: load it once before the first parse. */
export const loadParser = (): Promise<void> => (loaded ??= loadModule());

/* eslint-disable @typescript-eslint/no-explicit-any -- libpg-query's AST is a tree of tagged nodes */
type Node = Record<string, any>;

/** Parse PostgreSQL SQL into its statements; a syntax error names the position. */
export async function parsePg(sql: string): Promise<Node[]> {
  await loadParser();
  try {
    return (parseSync(sql).stmts ?? []).map((s: Node) => s.stmt as Node);
  } catch (error) {
    const e = error as { message: string; sqlDetails?: { cursorPosition?: number } };
    throw new Error(`not valid PostgreSQL: ${e.message}${e.sqlDetails?.cursorPosition !== undefined ? ` at character ${e.sqlDetails.cursorPosition + 1}` : ''}`);
  }
}

const str = (n: Node | undefined): string | undefined => n?.String?.sval;
const typeName = (t: Node | undefined): { name: string; mods: number[] } => ({
  name: (t?.names ?? []).map(str).filter((s: string | undefined) => s && s !== 'pg_catalog').join('.'),
  mods: (t?.typmods ?? []).map((m: Node) => Number(m.A_Const?.ival?.ival ?? 0)),
});

/** format_type() of the catalog for a parsed type name, for the types a safe change is about. */
function catalogType(t: Node | undefined): string {
  const { name, mods } = typeName(t);
  if (name === 'varchar') return mods.length ? `character varying(${mods[0]})` : 'character varying';
  return name;
}

/** A type change PostgreSQL does without rewriting the table (binary-coercible widening). */
function changeKeepsTable(from: string, to: string): boolean {
  if (from === to) return true;
  const len = (t: string) => /^character varying\((\d+)\)$/.exec(t)?.[1];
  if (to === 'text' && (from === 'text' || from.startsWith('character varying'))) return true;
  if (to === 'character varying' && from.startsWith('character varying')) return true;
  const a = len(from);
  const b = len(to);
  return a !== undefined && b !== undefined && Number(b) >= Number(a);
}

const countDuplicates = (table: string, cols: string[]) => {
  const list = cols.map(quoteIdent).join(', ');
  return `SELECT COUNT(*)::int AS n FROM (SELECT 1 FROM ${quoteIdent(table)} WHERE ${cols.map((c) => `${quoteIdent(c)} IS NOT NULL`).join(' AND ')} GROUP BY ${list} HAVING COUNT(*) > 1) AS d`;
};

/** A statement that switches off (0), resets or defaults lock_timeout or statement_timeout. */
function timeoutReset(stmt: Node): 'lock_timeout' | 'statement_timeout' | undefined {
  const set = stmt.VariableSetStmt;
  if (!set || (set.name !== 'lock_timeout' && set.name !== 'statement_timeout')) return undefined;
  if (set.kind !== 'VAR_SET_VALUE') return set.name;
  const value = set.args?.[0]?.A_Const;
  // The parse tree leaves out a zero integer's value: {"ival": {}}.
  const zero = value?.ival !== undefined ? Number(value.ival.ival ?? 0) === 0 : /^0\s*(ms|s|min)?$/.test(String(value?.sval?.sval ?? ''));
  return zero ? set.name : undefined;
}

interface Scope {
  index: number;
  schema: PgSchemaSnapshot;
  /** Tables created earlier in this release (or in this migration): nobody uses them yet. */
  created: Set<string>;
  count: Counter;
  options: SafetyOptions;
}

const existing = (scope: Scope, table: string) => Boolean(scope.schema[table]) && !scope.created.has(table);

/**
 * Check one migration's PostgreSQL SQL before it runs in the dry run: the static rules from the
 * parse tree, the data checks from the target at that point of the plan.
 */
export async function checkPgMigration(sql: string, scope: Scope): Promise<MigrationCheck> {
  const stmts = await parsePg(sql);
  const findings: Finding[] = [];
  const { index, options } = scope;
  let transactional = true;
  let dataLoss: MigrationCheck['data_loss'];
  const lose = async (rule: 'drop-table' | 'drop-column', countSql: string, what: string, label: string) => {
    const n = await scope.count(countSql);
    if (!n) return;
    dataLoss = { count: n, what };
    findings.push(finding(rule, options.allow_data_loss ? 'warning' : 'error', index, `${label}: ${n} ${what} would be lost${options.allow_data_loss ? ' (allow_data_loss is set)' : ''}`, n));
  };
  if (options.lock_timeout_ms === 0) findings.push(finding('missing-lock-timeout', 'error', index, 'releases.lock_timeout_ms is 0: a migration waiting for a lock would queue every query behind it, without limit'));
  if (options.statement_timeout_ms === 0) findings.push(finding('missing-statement-timeout', 'error', index, 'releases.statement_timeout_ms is 0: a migration could hold its locks without limit'));
  for (const stmt of stmts) {
    const reset = timeoutReset(stmt);
    if (reset) findings.push(finding(reset === 'lock_timeout' ? 'missing-lock-timeout' : 'missing-statement-timeout', 'error', index, `the migration resets ${reset}, which release-mcp sets for every migration`));
    if (stmt.CreateStmt) scope.created.add(stmt.CreateStmt.relation.relname);
    if (stmt.IndexStmt) {
      const ix = stmt.IndexStmt;
      const table: string = ix.relation.relname;
      if (ix.concurrent) {
        transactional = false;
        if (stmts.length > 1) throw new Error(`migration ${index}: CREATE INDEX CONCURRENTLY cannot run in a transaction; put it in a migration of its own`);
      } else if (existing(scope, table)) {
        findings.push(finding('index-not-concurrent', 'error', index, `CREATE INDEX ${ix.idxname ?? ''} on ${table} without CONCURRENTLY blocks every write to ${table} while it builds`.replace('  ', ' ')));
      }
      const cols = (ix.indexParams ?? []).map((p: Node) => p.IndexElem?.name as string | undefined);
      if (ix.unique && cols.length && cols.every(Boolean)) {
        const dup = await scope.count(countDuplicates(table, cols));
        if (dup) findings.push(finding('unique-with-duplicates', 'error', index, `unique index on ${table} (${cols.join(', ')}): ${dup} value(s) occur more than once`, dup));
      }
    }
    if (stmt.DropStmt?.removeType === 'OBJECT_TABLE') {
      for (const obj of stmt.DropStmt.objects ?? []) {
        const names = (obj.List?.items ?? []).map(str);
        const table = names[names.length - 1] as string;
        if (existing(scope, table)) await lose('drop-table', `SELECT COUNT(*)::int AS n FROM ${quoteIdent(table)}`, `rows in table ${table}`, `DROP TABLE ${table}`);
      }
    }
    const at = stmt.AlterTableStmt;
    if (!at || at.objtype !== 'OBJECT_TABLE') continue;
    const table: string = at.relation.relname;
    if (!existing(scope, table)) continue;
    for (const c of at.cmds ?? []) {
      const cmd = c.AlterTableCmd as Node;
      const column: string | undefined = cmd.name;
      switch (cmd.subtype) {
        case 'AT_AddColumn': {
          const def = cmd.def.ColumnDef as Node;
          const cons = (def.constraints ?? []).map((k: Node) => k.Constraint.contype as string);
          const filled = cons.includes('CONSTR_DEFAULT') || cons.includes('CONSTR_IDENTITY') || cons.includes('CONSTR_GENERATED');
          if ((cons.includes('CONSTR_NOTNULL') || cons.includes('CONSTR_PRIMARY')) && !filled) {
            findings.push(finding('add-column-not-null-without-default', 'error', index, `ADD COLUMN ${table}.${def.colname} NOT NULL without a default fails on a table with rows and locks it`));
          }
          if (cons.includes('CONSTR_UNIQUE') || cons.includes('CONSTR_PRIMARY')) {
            findings.push(finding('unique-constraint-without-index', 'error', index, `ADD COLUMN ${table}.${def.colname} UNIQUE builds its index while holding an exclusive lock on ${table}`));
          }
          if (cons.includes('CONSTR_FOREIGN') || cons.includes('CONSTR_CHECK')) {
            findings.push(finding('constraint-not-valid', 'error', index, `ADD COLUMN ${table}.${def.colname} with a FOREIGN KEY or CHECK validates every row under lock`));
          }
          break;
        }
        case 'AT_DropColumn':
          await lose('drop-column', `SELECT COUNT(*)::int AS n FROM ${quoteIdent(table)} WHERE ${quoteIdent(column!)} IS NOT NULL`, `values in ${table}.${column}`, `DROP COLUMN ${table}.${column}`);
          break;
        case 'AT_SetNotNull': {
          const nulls = await scope.count(`SELECT COUNT(*)::int AS n FROM ${quoteIdent(table)} WHERE ${quoteIdent(column!)} IS NULL`);
          const rows = await scope.count(`SELECT COUNT(*)::int AS n FROM ${quoteIdent(table)}`);
          if (nulls) findings.push(finding('not-null-with-nulls', 'error', index, `SET NOT NULL on ${table}.${column}: ${nulls} row(s) hold NULL, the migration would fail`, nulls));
          else if (rows) findings.push(finding('set-not-null-populated', 'warning', index, `SET NOT NULL on ${table}.${column} scans all ${rows} row(s) of ${table} under an exclusive lock`, rows));
          break;
        }
        case 'AT_AlterColumnType': {
          const from = scope.schema[table]?.columns.find((col) => col.name === column)?.type;
          const to = catalogType(cmd.def?.ColumnDef?.typeName);
          if (from && !changeKeepsTable(from, to)) {
            const rows = await scope.count(`SELECT COUNT(*)::int AS n FROM ${quoteIdent(table)}`);
            findings.push(finding('type-change-rewrite', 'warning', index, `${table}.${column} ${from} -> ${to} rewrites ${table}${rows ? ` (${rows} row(s))` : ''} under an exclusive lock`, rows));
          }
          break;
        }
        case 'AT_AddConstraint': {
          const con = cmd.def.Constraint as Node;
          if ((con.contype === 'CONSTR_FOREIGN' || con.contype === 'CONSTR_CHECK') && !con.skip_validation) {
            findings.push(finding('constraint-not-valid', 'error', index, `ADD CONSTRAINT ${con.conname ?? ''} (${con.contype === 'CONSTR_FOREIGN' ? 'FOREIGN KEY' : 'CHECK'}) on ${table} without NOT VALID validates every row while blocking writes`));
          }
          if (con.contype === 'CONSTR_UNIQUE' || con.contype === 'CONSTR_PRIMARY') {
            if (!con.indexname) findings.push(finding('unique-constraint-without-index', 'error', index, `ADD CONSTRAINT ${con.conname ?? ''} UNIQUE on ${table} builds its index while blocking writes`));
            const keys = (con.keys ?? []).map(str) as string[];
            if (keys.length) {
              const dup = await scope.count(countDuplicates(table, keys));
              if (dup) findings.push(finding('unique-with-duplicates', 'error', index, `unique (${keys.join(', ')}) on ${table}: ${dup} value(s) occur more than once`, dup));
            }
          }
          break;
        }
      }
    }
  }
  return { findings, transactional, ...(dataLoss ? { data_loss: dataLoss } : {}) };
}

/** The statements release-mcp runs before each migration's own, inside its transaction. */
export function timeoutsSql(options: Pick<SafetyOptions, 'lock_timeout_ms' | 'statement_timeout_ms'>, local = true): string {
  const set = local ? 'SET LOCAL' : 'SET';
  return `${set} lock_timeout = ${options.lock_timeout_ms};\n${set} statement_timeout = ${options.statement_timeout_ms}`;
}

/** The message of a refused prepare: each blocking finding with its rule and fix. */
export function blockingMessage(findings: readonly Finding[]): string {
  return findings
    .filter((f) => f.severity === 'error')
    .map((f) => `#${f.migration} [${f.rule}] ${f.message}; fix: ${f.fix}`)
    .join('; ');
}
