import type { z } from 'zod';

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
};

/** One line per problem, each naming the field path: `jira.url: expected a URL`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string[] {
  return issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    return `${path || '(root)'}: ${describeIssue(issue)}`;
  });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) return `required (expected ${issue.expected})`;
  if (issue.code === 'unrecognized_keys') return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return issue.message.replace(/^Invalid input: /, '');
}

function typesOf(schema: JsonSchema): string[] {
  const own = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  const alternatives = [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])].flatMap(typesOf);
  return [...own, ...alternatives];
}

function objectSchemaOf(schema: JsonSchema): JsonSchema | undefined {
  if (schema.properties) return schema;
  return [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])].find((s) => s.properties);
}

/**
 * Assistants often send "5" for 5, "true" for true, or "a,b" for ["a","b"]. Coerce such strings
 * by the JSON schema of the tool's input, before validation; anything ambiguous is left as is
 * so that validation reports it.
 */
export function coerceToSchema(value: unknown, schema: JsonSchema): unknown {
  const types = typesOf(schema);
  if (typeof value === 'string' && !types.includes('string')) {
    const text = value.trim();
    if ((types.includes('integer') || types.includes('number')) && /^-?\d+(\.\d+)?$/.test(text)) return Number(text);
    if (types.includes('boolean') && /^(true|false)$/i.test(text)) return text.toLowerCase() === 'true';
    if (types.includes('array') || types.includes('object')) {
      if (/^[[{]/.test(text)) {
        try {
          return coerceToSchema(JSON.parse(text), schema);
        } catch {
          return value;
        }
      }
      if (types.includes('array')) {
        const parts = text === '' ? [] : text.split(',').map((part) => part.trim());
        return coerceToSchema(parts, schema);
      }
    }
    return value;
  }
  if (Array.isArray(value) && schema.items) return value.map((item) => coerceToSchema(item, schema.items as JsonSchema));
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const objectSchema = objectSchemaOf(schema);
    if (!objectSchema?.properties) return value;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const propertySchema = objectSchema.properties[key];
      out[key] = propertySchema ? coerceToSchema(item, propertySchema) : item;
    }
    return out;
  }
  return value;
}

/** A string input without its own `.max()` in its zod schema may be at most this long. */
export const DEFAULT_MAX_STRING = 10_000;

/** Bad input is echoed in errors as at most this many characters. */
export const ECHO_CHARS = 80;

/** A value as an error may quote it: the first ECHO_CHARS characters and the full length. */
export function shortEcho(value: unknown, max = ECHO_CHARS): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text;
}

type LengthSchema = JsonSchema & { maxLength?: number };

function stringLimit(schema: LengthSchema | undefined): number {
  const alternatives = [schema, ...(schema?.anyOf ?? []), ...(schema?.oneOf ?? [])] as Array<LengthSchema | undefined>;
  const limits = alternatives.map((s) => s?.maxLength).filter((n): n is number => typeof n === 'number');
  return limits.length ? Math.max(...limits) : DEFAULT_MAX_STRING;
}

function itemsOf(schema: LengthSchema | undefined): LengthSchema | undefined {
  if (!schema) return undefined;
  return schema.items ?? [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])].find((s) => s.items)?.items;
}

/**
 * Every string of a tool's arguments, at any depth, checked against its field's maxLength (from
 * the zod schema) or DEFAULT_MAX_STRING; object keys too. One problem per field, naming the
 * field and the limit, never quoting the value. Runs before any other check, so nothing after it
 * sees (or echoes) a megabyte of input.
 */
export function overlongStrings(value: unknown, schema: LengthSchema | undefined, path = ''): string[] {
  const at = path || '(root)';
  if (typeof value === 'string') {
    const limit = stringLimit(schema);
    return value.length > limit ? [`${at}: ${value.length} characters, over the limit of ${limit}`] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => overlongStrings(item, itemsOf(schema), `${path}[${i}]`));
  if (value && typeof value === 'object') {
    const objectSchema = schema ? objectSchemaOf(schema) : undefined;
    const extra = schema && typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
    return Object.entries(value).flatMap(([key, item]) => {
      if (key.length > DEFAULT_MAX_STRING) return [`${at}: a key of ${key.length} characters, over the limit of ${DEFAULT_MAX_STRING}`];
      // A key is quoted short: a path of long keys repeated in every problem would outgrow the input.
      const name = shortEcho(key, 40);
      return overlongStrings(item, (objectSchema?.properties?.[key] ?? extra) as LengthSchema | undefined, path ? `${path}.${name}` : name);
    });
  }
  return [];
}
