import type { ColumnDef, MigrationOp, ModifiedColumn } from './migration-ops.js';
import { PlanError, quoteIdent, type ColumnInfo, type MigrationPlan } from './migrations-plan.js';
import type { PgSchemaSnapshot, PgTable } from './pg-schema.js';

/**
 * The structured migrations as PostgreSQL SQL. Unlike SQLite, PostgreSQL alters columns in
 * place and runs DDL in a transaction; CREATE INDEX CONCURRENTLY cannot, so an index is a
 * migration of its own that runs after the transaction commits (transactional: false).
 */

/** Our column types in PostgreSQL, as format_type() names them (so a type change is seen as one). */
export function pgType(type: string): string {
  const upper = type.toUpperCase();
  const varchar = /^VARCHAR\((\d+)\)$/.exec(upper);
  if (varchar) return `character varying(${varchar[1]})`;
  const map: Record<string, string> = {
    INTEGER: 'integer',
    BIGINT: 'bigint',
    TEXT: 'text',
    REAL: 'double precision',
    BLOB: 'bytea',
    NUMERIC: 'numeric',
    BOOLEAN: 'boolean',
    DATE: 'date',
    DATETIME: 'timestamp without time zone',
    TIMESTAMP: 'timestamp without time zone',
    JSON: 'jsonb',
  };
  const mapped = map[upper];
  if (!mapped) throw new PlanError(`no PostgreSQL type for ${type}`);
  return mapped;
}

export function pgLiteral(value: string | number | boolean | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new PlanError(`default ${value} is not a finite number`);
    return String(value);
  }
  return `'${value.replace(/'/g, "''")}'`;
}

const count = (table: string, where?: string) => `SELECT COUNT(*)::int AS n FROM ${quoteIdent(table)}${where ? ` WHERE ${where}` : ''}`;

function columnSql(col: ColumnDef, inlinePk: boolean): string {
  const parts = [quoteIdent(col.name), pgType(col.type)];
  if (inlinePk) parts.push('PRIMARY KEY');
  if (!col.nullable) parts.push('NOT NULL');
  if (col.unique) parts.push('UNIQUE');
  if (col.default !== undefined) parts.push(`DEFAULT ${pgLiteral(col.default)}`);
  return parts.join(' ');
}

function infoSql(col: ColumnInfo): string {
  const parts = [quoteIdent(col.name), col.type];
  if (col.notnull) parts.push('NOT NULL');
  if (col.dflt_value !== null) parts.push(`DEFAULT ${col.dflt_value}`);
  return parts.join(' ');
}

function requireTable(schema: PgSchemaSnapshot, table: string): PgTable {
  const t = schema[table];
  if (!t) throw new PlanError(`no table ${table} in the target database`);
  return t;
}

function requireColumn(t: PgTable, table: string, column: string): ColumnInfo {
  const col = t.columns.find((c) => c.name === column);
  if (!col) throw new PlanError(`no column ${table}.${column} (columns: ${t.columns.map((c) => c.name).join(', ')})`);
  return col;
}

const alter = (table: string, what: string) => `ALTER TABLE ${quoteIdent(table)} ${what}`;

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

function planAddColumn(op: Extract<MigrationOp, { operation: 'add_column' }>, schema: PgSchemaSnapshot): MigrationPlan {
  requireTable(schema, op.table);
  const col = op.column;
  if (col.primary_key) throw new PlanError(`add_column cannot add a PRIMARY KEY column (${op.table}.${col.name})`);
  const unchanged = col.default === undefined || col.default === null ? `${quoteIdent(col.name)} IS NOT NULL` : `${quoteIdent(col.name)} IS DISTINCT FROM ${pgLiteral(col.default)}`;
  return {
    operation: op.operation,
    table: op.table,
    sql: alter(op.table, `ADD COLUMN ${columnSql(col, false)}`),
    rollback_sql: alter(op.table, `DROP COLUMN ${quoteIdent(col.name)}`),
    reversible: true,
    notes: [],
    affected: [`column:${op.table}.${col.name}`],
    written_check: { sql: count(op.table, unchanged), what: `rows with a value in ${op.table}.${col.name}` },
  };
}

function planDropColumn(op: Extract<MigrationOp, { operation: 'drop_column' }>, schema: PgSchemaSnapshot): MigrationPlan {
  const t = requireTable(schema, op.table);
  const col = requireColumn(t, op.table, op.column);
  const notes: string[] = [];
  const constraints = t.constraints.filter((c) => c.columns.includes(col.name));
  const indexes = t.indexes.filter((i) => !i.constraint && i.columns.includes(col.name));
  let rollback: string | null = [alter(op.table, `ADD COLUMN ${infoSql(col)}`), ...indexes.map((i) => i.sql)].join(';\n');
  if (col.pk > 0 || (col.notnull && col.dflt_value === null) || constraints.length) {
    rollback = null;
    notes.push(`${op.table}.${col.name} ${col.pk > 0 ? 'is part of the primary key' : constraints.length ? `is in constraint(s) ${constraints.map((c) => c.name).join(', ')}` : 'is NOT NULL without a default'}: its rollback cannot add it back as it was; restore from the backup`);
  }
  return {
    operation: op.operation,
    table: op.table,
    sql: alter(op.table, `DROP COLUMN ${quoteIdent(col.name)}`),
    rollback_sql: rollback,
    reversible: rollback !== null,
    notes,
    affected: [`column:${op.table}.${col.name}`, ...indexes.map((i) => `index:${i.name}`)],
    data_loss_check: { sql: count(op.table, `${quoteIdent(col.name)} IS NOT NULL`), what: `rows with a value in ${op.table}.${col.name}` },
  };
}

/** CREATE TABLE, constraints and indexes of a table as the catalog describes them. */
function recreateSql(table: string, t: PgTable): string {
  const pk = t.constraints.find((c) => c.type === 'p');
  const defs = t.columns.map(infoSql);
  if (pk) defs.push(`CONSTRAINT ${quoteIdent(pk.name)} ${pk.def}`);
  return [
    `CREATE TABLE ${quoteIdent(table)} (${defs.join(', ')})`,
    ...t.constraints.filter((c) => c.type !== 'p').map((c) => alter(table, `ADD CONSTRAINT ${quoteIdent(c.name)} ${c.def}`)),
    ...t.indexes.filter((i) => !i.constraint).map((i) => i.sql),
  ].join(';\n');
}

function planDropTable(op: Extract<MigrationOp, { operation: 'drop_table' }>, schema: PgSchemaSnapshot): MigrationPlan {
  const t = requireTable(schema, op.table);
  const serial = t.columns.filter((c) => c.dflt_value?.startsWith('nextval('));
  return {
    operation: op.operation,
    table: op.table,
    sql: `DROP TABLE ${quoteIdent(op.table)}`,
    rollback_sql: serial.length ? null : recreateSql(op.table, t),
    reversible: serial.length === 0,
    notes: serial.length ? [`${op.table} has sequence-backed column(s) ${serial.map((c) => c.name).join(', ')}: the sequence goes with the table; restore from the backup`] : [],
    affected: [`table:${op.table}`, ...t.indexes.map((i) => `index:${i.name}`)],
    data_loss_check: { sql: count(op.table), what: `rows in table ${op.table}` },
  };
}

/** ALTER COLUMN statements taking a column from one definition to another. */
function alterColumnSql(table: string, from: ColumnInfo, to: { type: string; notnull: boolean; dflt_value: string | null }): string[] {
  const col = quoteIdent(from.name);
  const steps: string[] = [];
  if (from.dflt_value !== null && to.dflt_value !== from.dflt_value) steps.push(alter(table, `ALTER COLUMN ${col} DROP DEFAULT`));
  if (to.type !== from.type) steps.push(alter(table, `ALTER COLUMN ${col} TYPE ${to.type} USING ${col}::${to.type}`));
  if (to.dflt_value !== null && to.dflt_value !== from.dflt_value) steps.push(alter(table, `ALTER COLUMN ${col} SET DEFAULT ${to.dflt_value}`));
  if (to.notnull && !from.notnull) steps.push(alter(table, `ALTER COLUMN ${col} SET NOT NULL`));
  if (!to.notnull && from.notnull) steps.push(alter(table, `ALTER COLUMN ${col} DROP NOT NULL`));
  return steps;
}

function planModifyColumn(op: Extract<MigrationOp, { operation: 'modify_column' }>, schema: PgSchemaSnapshot): MigrationPlan {
  const t = requireTable(schema, op.table);
  const old = requireColumn(t, op.table, op.column.name);
  const target = modifiedInfo(op.column);
  const forward = alterColumnSql(op.table, old, target);
  if (!forward.length) throw new PlanError(`${op.table}.${old.name} is already ${target.type}${target.notnull ? ' NOT NULL' : ''}${target.dflt_value ? ` DEFAULT ${target.dflt_value}` : ''}: nothing to change`);
  const back = alterColumnSql(op.table, { ...old, ...target }, old);
  return {
    operation: op.operation,
    table: op.table,
    sql: forward.join(';\n'),
    rollback_sql: back.join(';\n'),
    reversible: true,
    notes: [],
    affected: [`column:${op.table}.${old.name}`],
  };
}

function modifiedInfo(col: ModifiedColumn): { type: string; notnull: boolean; dflt_value: string | null } {
  const type = pgType(col.type);
  // The catalog shows a string default with its type cast: compare like with like.
  const literal = col.default === undefined || col.default === null ? null : pgLiteral(col.default);
  const dflt = literal !== null && typeof col.default === 'string' ? `${literal}::${type}` : literal;
  return { type, notnull: !col.nullable, dflt_value: dflt };
}

function planCreateIndex(op: Extract<MigrationOp, { operation: 'create_index' }>, schema: PgSchemaSnapshot): MigrationPlan {
  const t = requireTable(schema, op.table);
  for (const c of op.columns) requireColumn(t, op.table, c);
  return {
    operation: op.operation,
    table: op.table,
    sql: `CREATE ${op.unique ? 'UNIQUE ' : ''}INDEX CONCURRENTLY ${quoteIdent(op.index)} ON ${quoteIdent(op.table)} (${op.columns.map(quoteIdent).join(', ')})`,
    rollback_sql: `DROP INDEX IF EXISTS ${quoteIdent(op.index)}`,
    reversible: true,
    notes: ['runs CONCURRENTLY, outside the migrations\' transaction, after it commits'],
    affected: [`index:${op.index}`],
    transactional: false,
  };
}

function planSql(op: Extract<MigrationOp, { operation: 'sql' }>): MigrationPlan {
  return {
    operation: op.operation,
    table: op.table,
    sql: op.sql.replace(/;\s*$/, ''),
    rollback_sql: op.rollback_sql ? op.rollback_sql.replace(/;\s*$/, '') : null,
    reversible: op.rollback_sql !== null,
    notes: op.rollback_sql === null ? ['no rollback_sql given: not reversible by SQL'] : [],
    affected: [`table:${op.table}`],
  };
}

/** Plan one migration against the PostgreSQL schema as it is at that point of the release. */
export function planPgMigration(op: MigrationOp, schema: PgSchemaSnapshot): MigrationPlan {
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
      return planSql(op);
  }
}
