import type { ColumnDef, MigrationOp, ModifiedColumn } from './migration-ops.js';

/** A column as SQLite reports it (PRAGMA table_info). */
export interface ColumnInfo {
  name: string;
  type: string;
  notnull: boolean;
  /** The default as SQL text, exactly as declared. */
  dflt_value: string | null;
  /** 1-based position in the primary key, 0 when not part of it. */
  pk: number;
}

/** What the planner needs to know about the target schema at that point of the plan. */
export interface SchemaView {
  /** Columns of a table, undefined when there is no such table. */
  columns(table: string): ColumnInfo[] | undefined;
  /** The CREATE TABLE statement of a table. */
  tableSql(table: string): string | undefined;
  /** Explicit (named) indexes of a table with their CREATE statements. */
  indexes(table: string): Array<{ name: string; sql: string; columns: string[] }>;
  /** Triggers and views whose definition mentions the table. */
  dependents(table: string): string[];
}

export interface MigrationPlan {
  operation: MigrationOp['operation'];
  table: string;
  /** Statements run at promote, separated by `;\n`. */
  sql: string;
  /** Statements that undo `sql`; null when the structure cannot be restored by SQL. */
  rollback_sql: string | null;
  /** True when rollback_sql restores the schema and no data is lost by the migration. */
  reversible: boolean;
  notes: string[];
  /** Objects the migration creates, changes or removes, e.g. `column:users.email`. */
  affected: string[];
  /** A COUNT query: rows that the migration would lose (more than 0 means data loss). */
  data_loss_check?: { sql: string; what: string };
  /** A COUNT query run before rollback: rows written to structures the release created. */
  written_check?: { sql: string; what: string };
  /**
   * PostgreSQL: false for a statement that cannot run in a transaction (CREATE INDEX
   * CONCURRENTLY); it runs on its own after the migrations' transaction commits.
   */
  transactional?: boolean;
}

/** A planning problem that depends on the schema (reported as the migration's dry-run error). */
export class PlanError extends Error {
  override readonly name = 'PlanError';
}

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export function sqlLiteral(value: string | number | boolean | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new PlanError(`default ${value} is not a finite number`);
    return String(value);
  }
  return `'${value.replace(/'/g, "''")}'`;
}

function columnSql(col: ColumnDef | ModifiedColumn, inlinePk: boolean): string {
  const parts = [quoteIdent(col.name), col.type.toUpperCase()];
  if (inlinePk) parts.push('PRIMARY KEY');
  if (!col.nullable) parts.push('NOT NULL');
  if ('unique' in col && col.unique) parts.push('UNIQUE');
  if (col.default !== undefined) parts.push(`DEFAULT ${sqlLiteral(col.default)}`);
  return parts.join(' ');
}

function infoSql(col: ColumnInfo): string {
  const parts = [quoteIdent(col.name)];
  if (col.type) parts.push(col.type);
  if (col.notnull) parts.push('NOT NULL');
  if (col.dflt_value !== null) parts.push(`DEFAULT ${col.dflt_value}`);
  return parts.join(' ');
}

/** CREATE TABLE from table_info: columns, NOT NULL, DEFAULT and the primary key. */
function createFromInfo(table: string, cols: ColumnInfo[]): string {
  const pk = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
  const defs = cols.map(infoSql);
  if (pk.length) defs.push(`PRIMARY KEY (${pk.map((c) => quoteIdent(c.name)).join(', ')})`);
  return `CREATE TABLE ${quoteIdent(table)} (${defs.join(', ')})`;
}

function requireTable(schema: SchemaView, table: string): ColumnInfo[] {
  const cols = schema.columns(table);
  if (!cols) throw new PlanError(`no table ${table} in the target database`);
  return cols;
}

function requireColumn(cols: ColumnInfo[], table: string, column: string): ColumnInfo {
  const col = cols.find((c) => c.name.toLowerCase() === column.toLowerCase());
  if (!col) throw new PlanError(`no column ${table}.${column} (columns: ${cols.map((c) => c.name).join(', ')})`);
  return col;
}

const count = (table: string, where?: string) => `SELECT COUNT(*) AS n FROM ${quoteIdent(table)}${where ? ` WHERE ${where}` : ''}`;

// SQLite rebuilds a table to change a column; constraints table_info cannot describe would be lost.
const REBUILD_BLOCKERS = /\b(CHECK|REFERENCES|FOREIGN|UNIQUE|AUTOINCREMENT|GENERATED|COLLATE|WITHOUT\s+ROWID)\b/i;

function planCreateTable(op: Extract<MigrationOp, { operation: 'create_table' }>): MigrationPlan {
  const pks = op.columns.filter((c) => c.primary_key);
  const defs = op.columns.map((c) => columnSql(c, pks.length === 1 && c.primary_key));
  if (pks.length > 1) defs.push(`PRIMARY KEY (${pks.map((c) => quoteIdent(c.name)).join(', ')})`);
  return {
    operation: op.operation,
    table: op.table,
    sql: `CREATE TABLE ${quoteIdent(op.table)} (${defs.join(', ')})`,
    rollback_sql: `DROP TABLE ${quoteIdent(op.table)}`,
    reversible: true,
    notes: [],
    affected: [`table:${op.table}`],
    written_check: { sql: count(op.table), what: `rows in table ${op.table}` },
  };
}

function planAddColumn(op: Extract<MigrationOp, { operation: 'add_column' }>, schema: SchemaView): MigrationPlan {
  requireTable(schema, op.table);
  const col = op.column;
  if (col.primary_key || col.unique) throw new PlanError(`SQLite cannot add a PRIMARY KEY or UNIQUE column (${op.table}.${col.name}): add the column, then create_index with unique: true`);
  if (!col.nullable && (col.default === undefined || col.default === null)) {
    throw new PlanError(`a NOT NULL column needs a non-null default to be added to existing rows (${op.table}.${col.name})`);
  }
  const unchanged = col.default === undefined || col.default === null ? `${quoteIdent(col.name)} IS NOT NULL` : `${quoteIdent(col.name)} IS NOT ${sqlLiteral(col.default)}`;
  return {
    operation: op.operation,
    table: op.table,
    sql: `ALTER TABLE ${quoteIdent(op.table)} ADD COLUMN ${columnSql(col, false)}`,
    rollback_sql: `ALTER TABLE ${quoteIdent(op.table)} DROP COLUMN ${quoteIdent(col.name)}`,
    reversible: true,
    notes: [],
    affected: [`column:${op.table}.${col.name}`],
    written_check: { sql: count(op.table, unchanged), what: `rows with a value in ${op.table}.${col.name}` },
  };
}

function planDropColumn(op: Extract<MigrationOp, { operation: 'drop_column' }>, schema: SchemaView): MigrationPlan {
  const cols = requireTable(schema, op.table);
  const col = requireColumn(cols, op.table, op.column);
  const notes: string[] = [];
  let rollback: string | null = `ALTER TABLE ${quoteIdent(op.table)} ADD COLUMN ${infoSql(col)}`;
  if (col.pk > 0 || (col.notnull && col.dflt_value === null)) {
    rollback = null;
    notes.push(`${op.table}.${col.name} is ${col.pk > 0 ? 'part of the primary key' : 'NOT NULL without a default'}: SQLite cannot add it back; restore from the backup`);
  }
  return {
    operation: op.operation,
    table: op.table,
    sql: `ALTER TABLE ${quoteIdent(op.table)} DROP COLUMN ${quoteIdent(col.name)}`,
    rollback_sql: rollback,
    reversible: rollback !== null,
    notes,
    affected: [`column:${op.table}.${col.name}`],
    data_loss_check: { sql: count(op.table, `${quoteIdent(col.name)} IS NOT NULL`), what: `rows with a value in ${op.table}.${col.name}` },
  };
}

function planDropTable(op: Extract<MigrationOp, { operation: 'drop_table' }>, schema: SchemaView): MigrationPlan {
  requireTable(schema, op.table);
  const create = schema.tableSql(op.table);
  const indexes = schema.indexes(op.table);
  return {
    operation: op.operation,
    table: op.table,
    sql: `DROP TABLE ${quoteIdent(op.table)}`,
    rollback_sql: create ? [create, ...indexes.map((i) => i.sql)].join(';\n') : null,
    reversible: Boolean(create),
    notes: [],
    affected: [`table:${op.table}`, ...indexes.map((i) => `index:${i.name}`)],
    data_loss_check: { sql: count(op.table), what: `rows in table ${op.table}` },
  };
}

/** The SQLite table-rebuild: new table, copy rows, drop old, rename, recreate indexes. */
function rebuildSql(table: string, create: (name: string) => string, columns: string[], indexes: string[]): string {
  const temp = `_release_mcp_new_${table}`;
  const list = columns.map(quoteIdent).join(', ');
  return [
    create(temp),
    `INSERT INTO ${quoteIdent(temp)} (${list}) SELECT ${list} FROM ${quoteIdent(table)}`,
    `DROP TABLE ${quoteIdent(table)}`,
    `ALTER TABLE ${quoteIdent(temp)} RENAME TO ${quoteIdent(table)}`,
    ...indexes,
  ].join(';\n');
}

function planModifyColumn(op: Extract<MigrationOp, { operation: 'modify_column' }>, schema: SchemaView): MigrationPlan {
  const cols = requireTable(schema, op.table);
  const old = requireColumn(cols, op.table, op.column.name);
  const createSql = schema.tableSql(op.table) ?? '';
  if (REBUILD_BLOCKERS.test(createSql)) {
    throw new PlanError(`modify_column rebuilds ${op.table}, and its definition has constraints the rebuild would not keep (CHECK, UNIQUE, REFERENCES, COLLATE, AUTOINCREMENT, generated columns or WITHOUT ROWID): change it with create_table + copy instead`);
  }
  const dependents = schema.dependents(op.table);
  if (dependents.length) throw new PlanError(`modify_column cannot rebuild ${op.table}: triggers or views depend on it (${dependents.join(', ')})`);
  const newInfo: ColumnInfo = {
    name: old.name,
    type: op.column.type.toUpperCase(),
    notnull: !op.column.nullable,
    dflt_value: op.column.default === undefined ? null : sqlLiteral(op.column.default),
    pk: old.pk,
  };
  const newCols = cols.map((c) => (c === old ? newInfo : c));
  const indexes = schema.indexes(op.table).map((i) => i.sql);
  const names = cols.map((c) => c.name);
  return {
    operation: op.operation,
    table: op.table,
    sql: rebuildSql(op.table, (name) => createFromInfo(name, newCols), names, indexes),
    rollback_sql: rebuildSql(op.table, (name) => createFromInfo(name, cols), names, indexes),
    reversible: true,
    notes: [`rebuilds ${op.table} (SQLite cannot alter a column in place); values are converted by column affinity`],
    affected: [`column:${op.table}.${old.name}`, `table:${op.table}`],
  };
}

function planCreateIndex(op: Extract<MigrationOp, { operation: 'create_index' }>, schema: SchemaView): MigrationPlan {
  const cols = requireTable(schema, op.table);
  for (const c of op.columns) requireColumn(cols, op.table, c);
  return {
    operation: op.operation,
    table: op.table,
    sql: `CREATE ${op.unique ? 'UNIQUE ' : ''}INDEX ${quoteIdent(op.index)} ON ${quoteIdent(op.table)} (${op.columns.map(quoteIdent).join(', ')})`,
    rollback_sql: `DROP INDEX ${quoteIdent(op.index)}`,
    reversible: true,
    notes: [],
    affected: [`index:${op.index}`],
  };
}

/** Plan one migration against the schema as it is at that point of the release. */
export function planMigration(op: MigrationOp, schema: SchemaView): MigrationPlan {
  switch (op.operation) {
    case 'create_table':
      return planCreateTable(op);
    case 'add_column':
      return planAddColumn(op, schema);
    case 'drop_column':
      return planDropColumn(op, schema);
    case 'drop_table':
      return planDropTable(op, schema);
    case 'modify_column':
      return planModifyColumn(op, schema);
    case 'create_index':
      return planCreateIndex(op, schema);
    case 'sql':
      throw new PlanError('an sql migration is PostgreSQL SQL: it runs on PostgreSQL targets only (use the structured operations on SQLite)');
  }
}
