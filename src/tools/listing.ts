/**
 * The JSON Schemas tools/list publishes, derived from a tool's full schemas (zod, converted).
 *
 * Every byte of tools/list goes into an assistant's context, so the listing keeps what a model
 * needs to pick and call a tool, and leaves to the server what only the server checks:
 * - input: types, fields, required, defaults, enums and descriptions stay; limits that guard the
 *   server (lengths, item counts, the 2^53 integer range) go, and so does the pattern of a field
 *   whose description already says what to send. Arguments are still validated against the full
 *   zod schema at call time, and a violation names the field and what was expected.
 * - output: the top-level fields a result always carries (`required`). A client validating
 *   structuredContent against it (ajv) checks those fields are there; the result itself and its
 *   text report say the rest.
 *
 * - annotations: the hints that differ from the protocol's defaults (readOnlyHint false,
 *   destructiveHint true, idempotentHint false, openWorldHint true); a client reads a missing hint
 *   as its default, so nothing is lost. The title is the tool's own `title`, not repeated here.
 *
 * Pure functions of plain JSON: the build writes their result into dist/tool-manifest.json, and a
 * catalog built from the tools' definitions computes the same bytes.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type SchemaNode = { [key: string]: Json };

/** Keywords that bound a value for the server's sake; the model does not need them to call the tool. */
const GUARD_KEYWORDS = new Set(['minLength', 'maxLength', 'minItems', 'maxItems']);
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Keywords whose value is a map of property name -> schema, or a list of schemas. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions']);
const SCHEMA_LISTS = new Set(['anyOf', 'oneOf', 'allOf', 'prefixItems']);

function isNode(value: unknown): value is SchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isBareString(value: Json): boolean {
  return isNode(value) && Object.keys(value).length === 1 && value.type === 'string';
}

/** One schema node as listed: guards dropped, sub-schemas listed the same way. */
function listedNode(node: SchemaNode): SchemaNode {
  const listed: SchemaNode = {};
  for (const [key, value] of Object.entries(node)) {
    if (GUARD_KEYWORDS.has(key)) continue;
    // z.number().int() publishes the 2^53 range: true of every JSON integer a client sends.
    if ((key === 'minimum' && value === -MAX_SAFE) || (key === 'maximum' && value === MAX_SAFE)) continue;
    // Object keys are strings in JSON: `propertyNames: {type: string}` says nothing.
    if (key === 'propertyNames' && isBareString(value)) continue;
    if (key === 'pattern' && typeof node.description === 'string') continue;
    listed[key] = listedValue(key, value);
  }
  return listed;
}

function listedValue(key: string, value: Json): Json {
  if (SCHEMA_MAPS.has(key) && isNode(value)) return Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, isNode(sub) ? listedNode(sub) : sub]));
  if (SCHEMA_LISTS.has(key) && Array.isArray(value)) return value.map((sub) => (isNode(sub) ? listedNode(sub) : sub));
  if ((key === 'items' || key === 'additionalProperties' || key === 'not') && isNode(value)) return listedNode(value);
  return value;
}

/** The input schema a client lists: what to send, without the server's guards. */
export function listedInputSchema<T extends object>(full: T): T {
  return listedNode(full as unknown as SchemaNode) as unknown as T;
}

/** The output schema a client lists: an object with the fields every result carries. */
export function listedOutputSchema<T extends { type: 'object'; required?: string[] }>(full: T): { type: 'object'; required?: string[] } {
  return full.required?.length ? { type: 'object', required: [...full.required] } : { type: 'object' };
}

/** The MCP defaults of the four hints (a client applies them to a hint left out). */
const HINT_DEFAULTS = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true } as const;

type Hints = { readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean; openWorldHint: boolean };

/** The hints a client lists: those that differ from the protocol's defaults. */
export function listedAnnotations(hints: Hints): Partial<Hints> {
  return Object.fromEntries((Object.keys(HINT_DEFAULTS) as Array<keyof Hints>).filter((hint) => hints[hint] !== HINT_DEFAULTS[hint]).map((hint) => [hint, hints[hint]]));
}
