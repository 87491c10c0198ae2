import { selectTools, unknownPersonaMessage } from '../personas/index.js';
import type { PersonaSummary, Progress, SessionControl, ToolContext } from '../tools/index.js';
import type { Principal } from '../principal.js';
import { localPrincipal } from './auth.js';
import type { Runtime } from './runtime.js';

export interface CallOptions {
  signal: AbortSignal;
  progress?: (update: Progress) => Promise<void>;
}

/** The ctx handed to handlers. Tools called from inside (skills) skip the persona filter only. */
export function toolContext(runtime: Runtime, session: SessionControl, options: CallOptions): ToolContext {
  const ctx: ToolContext = {
    config: runtime.config,
    secrets: runtime.secrets,
    memory: runtime.memory,
    logger: runtime.logger,
    clients: runtime.clients,
    services: runtime.services,
    session,
    signal: options.signal,
    progress: options.progress ?? (async () => {}),
    callTool: async (name, args, inner = {}) => {
      const callee: ToolContext = { ...ctx, signal: inner.signal ?? options.signal, ...(inner.caller ? { caller: inner.caller } : {}) };
      const outcome = await runtime.catalog.invoke(name, args, callee, runtime.secretValues);
      runtime.metrics.countToolCall(name, outcome.ok ? 'ok' : outcome.error.code);
      return outcome;
    },
  };
  return ctx;
}

/**
 * Tools each persona shows, by read-only mode: personas and the catalog do not change once the
 * runtime exists, so persona_list counts them once per runtime instead of on every call.
 */
const toolCounts = new WeakMap<Runtime, Map<boolean, Map<string, number>>>();

function toolCountsOf(runtime: Runtime, readOnly: boolean): Map<string, number> {
  let byMode = toolCounts.get(runtime);
  if (!byMode) toolCounts.set(runtime, (byMode = new Map()));
  let counts = byMode.get(readOnly);
  if (!counts) {
    const core = runtime.personas.get('core')!;
    const tools = runtime.catalog.all;
    counts = new Map([...runtime.personas.values()].map((persona) => [persona.name, selectTools(tools, { core, persona, readOnly }).length]));
    byMode.set(readOnly, counts);
  }
  return counts;
}

/** Persona summaries as a session with this persona and mode sees them. */
export function personaSummaries(runtime: Runtime, active: string, readOnly: boolean): PersonaSummary[] {
  const counts = toolCountsOf(runtime, readOnly);
  return [...runtime.personas.values()].map((persona) => ({
    name: persona.name,
    description: persona.description,
    families: persona.families,
    tools: persona.tools,
    skills: persona.skills,
    active: persona.name === active,
    tool_count: counts.get(persona.name)!,
  }));
}

/**
 * A session without an MCP client (the command line): a persona and read-only mode, and no way
 * to ask a question, so a confirm step pauses the run for `skill resume --approve`.
 */
export class LocalSession implements SessionControl {
  persona: string;
  readonly readOnly: boolean;
  readonly principal: Principal;

  constructor(
    private readonly runtime: Runtime,
    /** Who acts: the local user unless given (the REST API passes the token's principal). */
    principal: Principal = localPrincipal(runtime.config),
  ) {
    this.principal = principal;
    this.persona = runtime.defaultPersona;
    this.readOnly = runtime.readOnly || principal.role === 'viewer';
  }

  async loadPersona(name: string): Promise<{ persona: string; tools: string[] }> {
    const persona = this.runtime.personas.get(name);
    if (!persona) throw new Error(unknownPersonaMessage(name, this.runtime.personas));
    this.persona = persona.name;
    const core = this.runtime.personas.get('core')!;
    return { persona: persona.name, tools: selectTools(this.runtime.catalog.all, { core, persona, readOnly: this.readOnly }).map((t) => t.name) };
  }

  listPersonas(): PersonaSummary[] {
    return personaSummaries(this.runtime, this.persona, this.readOnly);
  }

  context(options: CallOptions): ToolContext {
    return toolContext(this.runtime, this, options);
  }
}
