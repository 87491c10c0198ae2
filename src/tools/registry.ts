import { z } from 'zod';
import type { Config, Secrets } from '../config.js';
import { ToolError, toToolError, type ToolErrorJSON } from '../errors.js';
import { redactValue, type Logger } from '../logger.js';
import type { MemoryDb } from '../memory/store.js';
import type { Principal } from '../principal.js';
import { coerceToSchema, formatIssues, overlongStrings, shortEcho } from '../validation.js';
import { listedInputSchema, listedOutputSchema } from './listing.js';

export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

export interface Progress {
  progress: number;
  total?: number;
  message?: string;
}

/** What a client can be asked directly (MCP elicitation); absent when the client cannot. */
export type ConfirmFn = (message: string) => Promise<'accept' | 'decline' | 'cancel'>;

/** Per-connection state: the active persona and what the client can do. */
export interface SessionControl {
  readonly persona: string;
  readonly readOnly: boolean;
  /** Who is calling: role and tenant (stdio: admin of the default tenant). */
  readonly principal: Principal;
  /** Switch persona; the server announces the new tool list. */
  loadPersona(name: string): Promise<{ persona: string; tools: string[] }>;
  /** Every persona, for persona_list. */
  listPersonas(): PersonaSummary[];
  /** Ask the user to confirm, when the client supports elicitation. */
  confirm?: ConfirmFn;
  /** The MCP protocol era of the client (legacy 2025, modern 2026-07-28); absent without MCP (CLI, REST). */
  readonly era?: 'legacy' | 'modern';
}

export interface PersonaSummary {
  name: string;
  description: string;
  families: string[];
  tools: string[];
  skills: string[];
  active: boolean;
  tool_count: number;
}

/** Memoised lazy construction of integration clients: built at first use, never at startup. */
export interface ClientCache {
  get<T>(key: string, create: () => T): T;
}

export interface ToolContext {
  config: Config;
  secrets: Secrets;
  memory: MemoryDb;
  logger: Logger;
  clients: ClientCache;
  session: SessionControl;
  signal: AbortSignal;
  progress(update: Progress): Promise<void>;
  /** Call another tool by name through the registry (persona filter off, read-only still enforced). */
  callTool(name: string, args: Record<string, unknown>, options?: { signal?: AbortSignal; caller?: RunCaller }): Promise<ToolOutcome>;
  /** Set when a skill run's step made this call: which run and step, and how deep runs nest here. */
  caller?: RunCaller;
  /** Named services that later layers register (skills engine, personas catalog). */
  services: ServiceMap;
}

/** The skill run step a tool call comes from (a nested skill_run knows its parent). */
export interface RunCaller {
  run_id: string;
  step: string;
  depth: number;
}

/** Services shared by tools, typed where they are declared through module augmentation. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ServiceMap {}

type AnyObject = z.ZodObject<z.ZodRawShape>;

export interface ToolDefinition<I extends AnyObject = AnyObject, O extends AnyObject = AnyObject> {
  name: string;
  family: string;
  title: string;
  description: string;
  input: I;
  output: O;
  annotations: ToolAnnotations;
  handler: (args: z.output<I>, ctx: ToolContext) => Promise<z.input<O>> | z.input<O>;
  /** One line for the text content; the structured result carries the rest. */
  summarize?: (result: z.output<O>) => string;
  /**
   * For tools whose result can describe a failure (a skill run that failed): the error to report.
   * The call is then a failure (`isError`) that still carries its structured result.
   */
  failureOf?: (result: z.output<O>) => ToolErrorJSON | undefined;
  /**
   * A field of the result that is its readable report (a skill run's markdown): it becomes the
   * text content and is left out of structuredContent and of the published output schema, so the
   * report is sent once. summarize is not used then.
   */
  reportField?: keyof z.output<O> & string;
  /** Records the result stands for, which a client reads in full as MCP resources (sent as resource links). */
  links?: (result: z.output<O>) => ResourceLink[];
}

/** A pointer to a record a client can read as an MCP resource (a `resource_link` content block). */
export interface ResourceLink {
  uri: string;
  name: string;
  mimeType: string;
  description: string;
}

// A tool list mixes definitions of different schemas; the handler is checked where it is defined.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyToolDefinition = ToolDefinition<any, any>;

const TOOL_NAME = /^[a-z][a-z0-9]*(_[a-z0-9]+)+$/;

/** A tool is data: this checks its shape and keeps its types; nothing is registered on import. */
export function defineTool<I extends AnyObject, O extends AnyObject>(definition: ToolDefinition<I, O>): ToolDefinition<I, O> {
  if (!TOOL_NAME.test(definition.name)) throw new Error(`tool name "${definition.name}" must be snake_case with a family prefix`);
  return definition;
}

export type ToolOutcome =
  | { ok: true; data: Record<string, unknown>; text: string; links?: ResourceLink[] }
  | { ok: false; error: ToolErrorJSON; text: string; data?: Record<string, unknown>; links?: ResourceLink[] };

export interface JsonSchemaObject {
  type: 'object';
  properties?: Record<string, object>;
  required?: string[];
  [key: string]: unknown;
}

/** JSON Schema of a zod object as MCP publishes it (no $schema key). */
export function jsonSchemaOf(schema: AnyObject, io: 'input' | 'output'): JsonSchemaObject {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchemaObject & { $schema?: string };
  return rest;
}

/** What tools/list and the persona filter need of a tool; a definition is one, and so is a manifest entry. */
export type ToolListing = Pick<AnyToolDefinition, 'name' | 'family' | 'title' | 'description' | 'annotations'>;

/** The JSON Schemas tools/list publishes of a tool (src/tools/listing.ts); calls are checked against the full ones. */
export interface ListedSchemas {
  input: JsonSchemaObject;
  output: JsonSchemaObject;
}

/** The output a client receives as structuredContent: the tool's output without its report field. */
export function structuredOutput(tool: Pick<AnyToolDefinition, 'output' | 'reportField'>): AnyObject {
  return tool.reportField ? (tool.output as z.ZodObject).omit({ [tool.reportField]: true } as never) : tool.output;
}

/** The listed schemas of a tool, from its zod schemas. */
export function listedSchemasOf(tool: Pick<AnyToolDefinition, 'input' | 'output' | 'reportField'>): ListedSchemas {
  return { input: listedInputSchema(jsonSchemaOf(tool.input, 'input')), output: listedOutputSchema(jsonSchemaOf(structuredOutput(tool), 'output')) };
}

/** A tool as the build lists it: its listing, the module that defines it, and its listed JSON Schemas. */
export interface ToolManifestEntry extends ToolListing, ListedSchemas {
  module: string;
}

/** The tool modules by name, each imported when first needed. */
export type ToolModules = Readonly<Record<string, () => Promise<readonly AnyToolDefinition[]>>>;

/** The tools of a server: their schemas converted once, and the one call path used by MCP and skills. */
export class ToolCatalog {
  private readonly listings = new Map<string, ToolListing>();
  private readonly definitions = new Map<string, AnyToolDefinition>();
  private readonly inputSchemas = new Map<string, JsonSchemaObject>();
  private readonly outputSchemas = new Map<string, JsonSchemaObject>();
  private readonly listed = new Map<string, ListedSchemas>();
  /** Lazy catalogs only: each tool's module, how to import it, and the imports started. */
  private readonly moduleOf = new Map<string, string>();
  private modules: ToolModules = {};
  private readonly imports = new Map<string, Promise<void>>();
  private readonly imported = new Set<string>();

  /** A catalog of definitions at hand (tests, the build); JSON Schemas are converted when first asked for. */
  constructor(tools: readonly AnyToolDefinition[]) {
    for (const tool of tools) {
      this.add(tool);
      this.definitions.set(tool.name, tool);
    }
  }

  /**
   * A catalog that answers from the build's manifest and imports a tool's module (its zod
   * schemas, handlers and client libraries) only when one of its tools is first called.
   */
  static lazy(manifest: readonly ToolManifestEntry[], modules: ToolModules): ToolCatalog {
    const catalog = new ToolCatalog([]);
    catalog.modules = modules;
    for (const { module, input, output, ...listing } of manifest) {
      if (!Object.hasOwn(modules, module)) throw new Error(`tool ${listing.name}: no tool module "${module}"`);
      catalog.add(listing);
      catalog.moduleOf.set(listing.name, module);
      catalog.listed.set(listing.name, { input, output });
    }
    return catalog;
  }

  private add(listing: ToolListing): void {
    if (this.listings.has(listing.name)) throw new Error(`duplicate tool name "${listing.name}"`);
    this.listings.set(listing.name, listing);
  }

  get names(): string[] {
    return [...this.listings.keys()];
  }

  get all(): ToolListing[] {
    return [...this.listings.values()];
  }

  get families(): Set<string> {
    return new Set(this.all.map((t) => t.family));
  }

  get(name: string): ToolListing | undefined {
    return this.listings.get(name);
  }

  /** Tool modules imported so far (lazy catalogs): a module is imported when one of its tools is first needed. */
  get importedModules(): string[] {
    return [...this.imported];
  }

  /** The full definition (zod schemas, handler), importing its module first when needed. */
  async load(name: string): Promise<AnyToolDefinition> {
    const loaded = this.definitions.get(name);
    if (loaded) return loaded;
    const module = this.moduleOf.get(name);
    if (module === undefined) throw new Error(`unknown tool ${name}`);
    let pending = this.imports.get(module);
    if (!pending) {
      pending = this.importModule(module);
      this.imports.set(module, pending);
      // A failed import is tried again at the next call rather than remembered.
      pending.catch(() => this.imports.delete(module));
    }
    await pending;
    return this.definitions.get(name)!;
  }

  /** The definition of a tool whose module is already imported (every tool of a catalog built from definitions). */
  loaded(name: string): AnyToolDefinition | undefined {
    return this.definitions.get(name);
  }

  private async importModule(module: string): Promise<void> {
    const tools = await this.modules[module]!();
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    const listed = [...this.moduleOf].filter(([, m]) => m === module).map(([name]) => name);
    const missing = listed.filter((name) => !byName.has(name));
    if (missing.length) throw new ToolError('internal', `tool module ${module} does not define ${missing.join(', ')}, which the tool list names`, { hint: 'the build is out of date: run npm run build' });
    for (const name of listed) this.definitions.set(name, byName.get(name)!);
    this.imported.add(module);
  }

  /** The schemas tools/list publishes: from the manifest, or computed from a loaded tool's zod schemas. */
  listedSchemas(name: string): ListedSchemas {
    let schemas = this.listed.get(name);
    if (!schemas) {
      schemas = listedSchemasOf(this.requireLoaded(name));
      this.listed.set(name, schemas);
    }
    return schemas;
  }

  /** The full input schema of a loaded tool (every guard), which arguments are coerced and checked against. */
  inputSchema(name: string): JsonSchemaObject {
    let schema = this.inputSchemas.get(name);
    if (!schema) {
      schema = jsonSchemaOf(this.requireLoaded(name).input, 'input');
      this.inputSchemas.set(name, schema);
    }
    return schema;
  }

  /** The full schema of a loaded tool's structuredContent. */
  outputSchema(name: string): JsonSchemaObject {
    let schema = this.outputSchemas.get(name);
    if (!schema) {
      schema = jsonSchemaOf(structuredOutput(this.requireLoaded(name)), 'output');
      this.outputSchemas.set(name, schema);
    }
    return schema;
  }

  private requireLoaded(name: string): AnyToolDefinition {
    const tool = this.definitions.get(name);
    if (!tool) throw new Error(this.listings.has(name) ? `tool ${name} is not loaded yet (ToolCatalog.load)` : `unknown tool ${name}`);
    return tool;
  }

  /** Coerce and validate arguments of a loaded tool; every problem is reported with its field path. */
  parseArgs(name: string, raw: unknown): Record<string, unknown> {
    const tool = this.requireLoaded(name);
    const schema = this.inputSchema(name);
    // An argument the tool does not have is refused, not dropped: `target` for `target_branch`
    // would otherwise open a merge request into the default branch.
    const known = new Set(Object.keys(schema.properties ?? {}));
    // Lengths first: every later check, and its error, then works on bounded text.
    const overlong = overlongStrings(raw, schema as Parameters<typeof overlongStrings>[1]);
    if (overlong.length) throw invalidArguments(name, overlong, 'shorten the named fields and call again; nothing was changed');
    const unknown = raw && typeof raw === 'object' && !Array.isArray(raw) ? Object.keys(raw).filter((key) => !known.has(key)) : [];
    if (unknown.length) {
      const problems = unknown.map((key) => `${shortEcho(key)}: unknown argument (expected one of: ${[...known].join(', ') || 'none'})`);
      throw invalidArguments(name, problems);
    }
    const coerced = coerceToSchema(raw ?? {}, schema as Parameters<typeof coerceToSchema>[1]);
    const parsed = tool.input.safeParse(coerced);
    if (!parsed.success) {
      throw invalidArguments(name, formatIssues(parsed.error.issues));
    }
    return parsed.data as Record<string, unknown>;
  }

  /** parseArgs for any tool: its module is imported first when needed. */
  async checkArgs(name: string, raw: unknown): Promise<Record<string, unknown>> {
    await this.load(name);
    return this.parseArgs(name, raw);
  }

  /**
   * Run one tool: validate input, run the handler, validate output, mask secrets. A throw of any
   * kind becomes a failed outcome, so nothing that failed is reported as success.
   */
  async invoke(name: string, raw: unknown, ctx: ToolContext, secrets: readonly string[]): Promise<ToolOutcome> {
    const listing = this.listings.get(name);
    try {
      if (!listing) throw unknownToolError(name);
      if (ctx.session.readOnly && !listing.annotations.readOnlyHint) throw unknownToolError(name);
      const tool = this.definitions.get(name) ?? (await this.load(name));
      const args = this.parseArgs(name, raw);
      ctx.signal.throwIfAborted();
      const result = await tool.handler(args, ctx);
      const checked = tool.output.safeParse(result);
      if (!checked.success) {
        throw new ToolError('internal', `${name} produced a result that does not match its output schema: ${formatIssues(checked.error.issues).join('; ')}`, {
          hint: 'this is a bug in release-mcp; please report it with the arguments used',
        });
      }
      const data = redactValue(checked.data as Record<string, unknown>, secrets);
      const summary = tool.reportField ? String(data[tool.reportField]) : redactValue(tool.summarize ? tool.summarize(data as never) : `${name} succeeded`, secrets);
      const failure = tool.failureOf?.(data as never);
      const links = tool.links?.(data as never);
      const linked = links?.length ? { links: redactValue(links, secrets) } : {};
      const structured = tool.reportField ? Object.fromEntries(Object.entries(data).filter(([key]) => key !== tool.reportField)) : data;
      if (failure) return { ok: false, error: redactValue(failure, secrets), text: `${renderError(name, failure)}\n\n${summary}`, data: structured, ...linked };
      return { ok: true, data: structured, text: summary, ...linked };
    } catch (thrown) {
      const error = redactValue(boundedError(toToolError(ctx.memory.lockError(thrown) ?? thrown).toJSON()), secrets);
      if (error.code === 'internal') ctx.logger.error(`${name} failed unexpectedly`, { message: error.message });
      return { ok: false, error, text: renderError(name, error) };
    }
  }
}

/** Longest error message returned: a handler that quotes its input cannot make an error of megabytes. */
const MAX_ERROR_MESSAGE = 4000;

function boundedError(error: ToolErrorJSON): ToolErrorJSON {
  return error.message.length > MAX_ERROR_MESSAGE ? { ...error, message: shortEcho(error.message, MAX_ERROR_MESSAGE) } : error;
}

/** Problems listed in one invalid_input error: a hostile input cannot make an error of megabytes. */
export const MAX_PROBLEMS = 20;

function invalidArguments(name: string, problems: readonly string[], hint = 'fix the named fields and call again; nothing was changed'): ToolError {
  // A long path keeps its start and its end, where the field and what is wrong are named.
  const shown = problems.slice(0, MAX_PROBLEMS).map((p) => (p.length > 300 ? `${p.slice(0, 100)}…${p.slice(-180)}` : p));
  if (problems.length > MAX_PROBLEMS) shown.push(`…and ${problems.length - MAX_PROBLEMS} more`);
  return new ToolError('invalid_input', `invalid arguments for ${shortEcho(name)}: ${shown.join('; ')}`, { hint, details: { problems: shown } });
}

/** The same error for a tool that does not exist and for one hidden by persona or read-only mode. */
export function unknownToolError(name: string): ToolError {
  return new ToolError('not_found', `unknown tool: ${shortEcho(name)}`, { hint: 'call persona_list to see which persona provides it' });
}

export function renderError(name: string, error: ToolErrorJSON): string {
  const lines = [`${shortEcho(name)} failed [${error.code}]: ${error.message}`];
  if (error.hint) lines.push(`Hint: ${error.hint}`);
  return lines.join('\n');
}

/** A simple memoising ClientCache. */
export function createClientCache(): ClientCache {
  const cache = new Map<string, unknown>();
  return {
    get<T>(key: string, create: () => T): T {
      if (!cache.has(key)) cache.set(key, create());
      return cache.get(key) as T;
    },
  };
}
