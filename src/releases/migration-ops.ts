import { z } from 'zod';

/** Identifiers are validated, then always double-quoted in SQL. */
export const identifier = z
  .string()
  .max(64)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an identifier: letters, digits and _, not starting with a digit');

export const COLUMN_TYPES = ['INTEGER', 'BIGINT', 'TEXT', 'REAL', 'BLOB', 'NUMERIC', 'BOOLEAN', 'DATE', 'DATETIME', 'TIMESTAMP', 'JSON', 'VARCHAR(n)'] as const;

const columnType = z
  .string()
  .regex(/^(INTEGER|BIGINT|TEXT|REAL|BLOB|NUMERIC|BOOLEAN|DATE|DATETIME|TIMESTAMP|JSON|VARCHAR\(\d{1,5}\))$/i, `expected one of ${COLUMN_TYPES.join(', ')}`)
  .describe(`Column type: ${COLUMN_TYPES.join(', ')}`);

const defaultValue = z.union([z.string(), z.number(), z.boolean(), z.null()]).describe('Default value (a literal, never an expression)');

export const columnSchema = z.object({
  name: identifier,
  type: columnType,
  nullable: z.boolean().default(true),
  default: defaultValue.optional(),
  primary_key: z.boolean().default(false),
  unique: z.boolean().default(false),
});

const modifiedColumnSchema = z.object({
  name: identifier.describe('Existing column to change'),
  type: columnType,
  nullable: z.boolean().default(true),
  default: defaultValue.optional(),
});

export const migrationOpSchema = z.discriminatedUnion('operation', [
  z.object({ operation: z.literal('create_table'), table: identifier, columns: z.array(columnSchema).min(1) }),
  z.object({ operation: z.literal('add_column'), table: identifier, column: columnSchema }),
  z.object({ operation: z.literal('drop_column'), table: identifier, column: identifier }),
  z.object({ operation: z.literal('modify_column'), table: identifier, column: modifiedColumnSchema }),
  z.object({
    operation: z.literal('create_index'),
    table: identifier,
    index: identifier.describe('Index name'),
    columns: z.array(identifier).min(1),
    unique: z.boolean().default(false),
  }),
  z.object({ operation: z.literal('drop_table'), table: identifier }),
  z.object({
    operation: z.literal('sql'),
    table: identifier.describe('Table the statements change (for the report and the data checks)'),
    sql: z.string().trim().min(1).max(100_000).describe('PostgreSQL statements (PostgreSQL targets only); checked by the safe-migration rules before prepare'),
    rollback_sql: z.string().trim().min(1).max(100_000).nullable().default(null).describe('Statements that undo sql; null: not reversible'),
  }),
]);

export type MigrationOp = z.output<typeof migrationOpSchema>;
export type ColumnDef = z.output<typeof columnSchema>;
export type ModifiedColumn = z.output<typeof modifiedColumnSchema>;
