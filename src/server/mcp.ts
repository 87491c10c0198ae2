import { Server, type CallToolRequest, type CallToolResult, type InputRequiredResult, type ServerContext, type Tool } from '@modelcontextprotocol/server';
import { ToolError } from '../errors.js';
import type { Principal } from '../principal.js';
import { recordEvent } from '../releases/ledger.js';
import { isToolVisible, selectTools, unknownPersonaMessage, type Persona, type ToolFilter } from '../personas/index.js';
// Not tools/index.js: that imports every tool module, which a server does only when a tool is called.
import {
  renderError,
  unknownToolError,
  type ConfirmFn,
  type PersonaSummary,
  type Progress,
  type SessionControl,
  type ToolContext,
  type ToolListing,
  type ToolOutcome,
} from '../tools/registry.js';
import { listedAnnotations } from '../tools/listing.js';
import { localPrincipal } from './auth.js';
import { callOnModernEra, CONFIRM_SCHEMA, confirmDecision } from './approvals.js';
import { toCallToolResult } from './tool-result.js';
import { CONTENT_CAPABILITIES, registerContentHandlers } from './mcp-content.js';
import { personaSummaries, toolContext, type CallOptions } from './context.js';
import type { Runtime } from './runtime.js';

export interface SessionOptions {
  persona?: string;
  readOnly?: boolean;
  /** Who the session acts for; default the local user (admin of the default tenant). */
  principal?: Principal;
  /**
   * The protocol era the client speaks: `legacy` (2025, initialize and a session) or `modern`
   * (2026-07-28, every request stands alone). Default legacy, which a 2025 client also gets.
   */
  era?: ProtocolEra;
  /**
   * Where a persona change is told (tools and resources list_changed): the session's own server by
   * default; a stateless HTTP request has no connection of its own, so its server passes one.
   */
  onListsChanged?: () => void;
  /** Where a persona change is kept: in the session by default; in the store for stateless HTTP. */
  personaStore?: PersonaStore;
}

export type ProtocolEra = 'legacy' | 'modern';

/** Keeps a principal's persona where every process that serves it can read it. */
export interface PersonaStore {
  save(principal: Principal, persona: string): Promise<void>;
}

/** One client's view of the server: its persona, and what its client can do. */
export class McpSession implements SessionControl {
  persona: string;
  readonly readOnly: boolean;
  readonly principal: Principal;
  readonly era: ProtocolEra;
  readonly server: Server;

  constructor(
    readonly runtime: Runtime,
    options: SessionOptions = {},
  ) {
    this.persona = options.persona ?? runtime.defaultPersona;
    this.principal = options.principal ?? localPrincipal(runtime.config);
    // A viewer sees and may call read-only tools only, whatever the persona.
    this.readOnly = (options.readOnly ?? runtime.readOnly) || this.principal.role === 'viewer';
    this.era = options.era ?? 'legacy';
    this.onListsChanged = options.onListsChanged;
    this.personaStore = options.personaStore;
    this.server = new Server(
      { name: 'release-mcp', title: 'release-mcp', version: runtime.version },
      {
        capabilities: { tools: { listChanged: true }, logging: {}, ...CONTENT_CAPABILITIES },
        instructions:
          'Release engineering tools. Tools are grouped into personas (persona_list, persona_load). Skills (skill_list, skill_run) chain tools into whole release procedures; run them with dry_run first. On a failure, check_known_issues shows what fixed it before.',
      },
    );
    this.server.setRequestHandler('tools/list', () => ({ tools: this.visibleTools().map((tool) => this.describe(tool)) }));
    this.server.setRequestHandler('tools/call', (request, ctx) => this.answerCall(request, ctx));
    registerContentHandlers(this.server, this);
  }

  /** Tool calls still running, and when the last one ended: a session is not idle while one runs. */
  readonly calls = { running: 0, lastEnded: 0 };

  private async answerCall(request: CallToolRequest, ctx: ServerContext): Promise<CallToolResult | InputRequiredResult> {
    this.calls.running += 1;
    try {
      const progressToken = request.params._meta?.progressToken;
      const progress = async (update: Progress) => {
        if (progressToken === undefined) return;
        await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, ...update } });
      };
      const options = { signal: ctx.mcpReq.signal, progress };
      if (this.era === 'modern') {
        // No server-to-client requests on this era: a confirm step is asked in the result instead.
        const answer = await callOnModernEra(this, request.params.name, request.params.arguments ?? {}, ctx, options);
        return 'resultType' in answer ? answer : toCallToolResult(answer);
      }
      return toCallToolResult(await this.call(request.params.name, request.params.arguments ?? {}, options));
    } finally {
      this.calls.running -= 1;
      this.calls.lastEnded = Date.now();
    }
  }

  private readonly onListsChanged: (() => void) | undefined;
  private readonly personaStore: PersonaStore | undefined;

  /** Kept until the persona changes: every call checks visibility against it. */
  private cachedFilter: ToolFilter | undefined;

  private get filter(): ToolFilter {
    if (this.cachedFilter?.persona.name !== this.persona) {
      this.cachedFilter = { core: this.personaNamed('core'), persona: this.personaNamed(this.persona), readOnly: this.readOnly };
    }
    return this.cachedFilter;
  }

  private personaNamed(name: string): Persona {
    const persona = this.runtime.personas.get(name);
    if (!persona) throw new ToolError('not_found', unknownPersonaMessage(name, this.runtime.personas));
    return persona;
  }

  visibleTools(): ToolListing[] {
    return selectTools(this.runtime.catalog.all, this.filter);
  }

  private describe(tool: ToolListing): Tool {
    const { input, output } = this.runtime.catalog.listedSchemas(tool.name);
    // Our schema type is looser than the SDK's JSON value types; the values are JSON all the same.
    const schemas = { inputSchema: input as Tool['inputSchema'], outputSchema: output as Tool['outputSchema'] };
    return { name: tool.name, title: tool.title, description: tool.description, ...schemas, annotations: listedAnnotations(tool.annotations) };
  }

  /**
   * A call from the client: the persona filter applies, and hidden tools look unknown. `as` is the
   * session the tool sees (an approval answer's resume passes one that carries the answer).
   */
  async call(name: string, args: unknown, options: CallOptions, as: SessionControl = this): Promise<ToolOutcome> {
    const tool = this.runtime.catalog.get(name);
    if (!tool || !isToolVisible(tool, this.filter)) {
      if (tool && this.principal.role === 'viewer' && isToolVisible(tool, { ...this.filter, readOnly: this.runtime.readOnly })) await this.auditRefusal(name, 'the viewer role may call read-only tools only');
      const error = unknownToolError(name).toJSON();
      // Unknown names are counted under one label: a client cannot grow the counter map without bound.
      this.runtime.metrics.countToolCall(tool ? name : '(unknown)', error.code);
      return { ok: false, error, text: renderError(name, error) };
    }
    const outcome = await this.runtime.catalog.invoke(name, args, this.context(options, as), this.runtime.secretValues);
    this.runtime.metrics.countToolCall(name, outcome.ok ? 'ok' : outcome.error.code);
    return outcome;
  }

  /** An access.refused audit event of this principal (a failure to record it is logged, not raised). */
  async auditRefusal(tool: string, reason: string): Promise<void> {
    try {
      await recordEvent(this.runtime.memory, { event: 'access.refused', actor: this.principal, details: { tool, reason } });
    } catch (error) {
      this.runtime.logger.warn('could not record a refused call', { tool, message: (error as Error).message });
    }
  }

  /** The ctx handed to handlers. Tools called from inside (skills) skip the persona filter only. */
  context(options: CallOptions, as: SessionControl = this): ToolContext {
    return toolContext(this.runtime, as, options);
  }

  async loadPersona(name: string): Promise<{ persona: string; tools: string[] }> {
    const persona = this.personaNamed(name);
    const changed = persona.name !== this.persona;
    // Saved before it is shown: a stateless client's next request may reach another process.
    if (this.personaStore) await this.personaStore.save(this.principal, persona.name);
    this.persona = persona.name;
    if (changed) {
      // Resource kinds follow the tools a persona shows, so both lists change together.
      if (this.onListsChanged) this.onListsChanged();
      else {
        await this.server.sendToolListChanged().catch(() => undefined);
        await this.server.sendResourceListChanged().catch(() => undefined);
      }
    }
    this.runtime.logger.info('persona loaded', { persona: persona.name });
    return { persona: persona.name, tools: this.visibleTools().map((t) => t.name) };
  }

  listPersonas(): PersonaSummary[] {
    return personaSummaries(this.runtime, this.persona, this.readOnly);
  }

  /**
   * Present only on a 2025-era connection whose client declared elicitation support: the 2026-07-28
   * era has no server-to-client requests.
   */
  get confirm(): ConfirmFn | undefined {
    if (this.era !== 'legacy' || !this.server.getClientCapabilities()?.elicitation) return undefined;
    return async (message) => {
      return confirmDecision(await this.server.elicitInput({ message, requestedSchema: CONFIRM_SCHEMA }));
    };
  }

  async close(): Promise<void> {
    await this.server.close().catch(() => undefined);
  }
}
