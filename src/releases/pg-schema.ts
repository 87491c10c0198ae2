import type { ClientBase } from 'pg';
import { canonicalJson, sha256Hex } from './bundle.js';
import type { ColumnInfo } from './migrations-plan.js';

/** The schema of a PostgreSQL target (its current_schema()), as the planner and the safety checks read it. */

export interface PgConstraint {
  name: string;
  /** p primary key, u unique, f foreign key, c check, x exclusion. */
  type: string;
  def: string;
  columns: string[];
}

export interface PgIndex {
  name: string;
  sql: string;
  columns: string[];
  /** Backs a constraint (primary key, unique): the constraint recreates it. */
  constraint: boolean;
}

export interface PgTable {
  columns: ColumnInfo[];
  constraints: PgConstraint[];
  indexes: PgIndex[];
}

export type PgSchemaSnapshot = Record<string, PgTable>;

/** Where a target database records the promotions that committed to it (left out of the fingerprint). */
export const PG_MARKER_TABLE = '_release_mcp_promotions';

const COLUMNS = `
  SELECT c.relname AS table_name, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
         pg_get_expr(d.adbin, d.adrelid) AS dflt
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
  ORDER BY c.relname, a.attnum`;

const CONSTRAINTS = `
  SELECT c.relname AS table_name, con.conname AS name, con.contype AS type, pg_get_constraintdef(con.oid) AS def,
         ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i)::text[] AS columns
  FROM pg_constraint con
  JOIN pg_class c ON c.oid = con.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = current_schema() AND con.contype IN ('p', 'u', 'f', 'c', 'x')
  ORDER BY c.relname, con.conname`;

const INDEXES = `
  SELECT t.relname AS table_name, ic.relname AS name, pg_get_indexdef(i.indexrelid) AS sql,
         EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x')) AS constraint,
         ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o)::text[] AS columns
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class t ON t.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
  WHERE n.nspname = current_schema()
  ORDER BY t.relname, ic.relname`;

/** Read every table of the current schema (but the promotion marker): columns, constraints, indexes. */
export async function readPgSchema(client: ClientBase): Promise<PgSchemaSnapshot> {
  const [columns, constraints, indexes] = [
    (await client.query(COLUMNS)).rows as Array<{ table_name: string; name: string; type: string; notnull: boolean; dflt: string | null }>,
    (await client.query(CONSTRAINTS)).rows as Array<PgConstraint & { table_name: string }>,
    (await client.query(INDEXES)).rows as Array<PgIndex & { table_name: string }>,
  ];
  const schema: PgSchemaSnapshot = {};
  const table = (name: string) => (schema[name] ??= { columns: [], constraints: [], indexes: [] });
  for (const c of columns) {
    if (c.table_name === PG_MARKER_TABLE) continue;
    table(c.table_name).columns.push({ name: c.name, type: c.type, notnull: c.notnull, dflt_value: c.dflt, pk: 0 });
  }
  for (const { table_name, ...con } of constraints) {
    if (!schema[table_name]) continue;
    schema[table_name]!.constraints.push(con);
    if (con.type === 'p') {
      for (const col of schema[table_name]!.columns) {
        const at = con.columns.indexOf(col.name);
        if (at >= 0) col.pk = at + 1;
      }
    }
  }
  for (const { table_name, ...index } of indexes) if (schema[table_name]) schema[table_name]!.indexes.push(index);
  return schema;
}

/** sha256 over the whole schema: any DDL since a release was planned changes it. */
export function pgFingerprint(schema: PgSchemaSnapshot): string {
  return sha256Hex(canonicalJson(schema));
}
