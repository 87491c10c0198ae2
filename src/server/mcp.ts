import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
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
import { toCallToolResult } from './tool-result.js';
import { personaSummaries, toolContext, type CallOptions } from './context.js';
import type { Runtime } from './runtime.js';

export interface SessionOptions {
  persona?: string;
  readOnly?: boolean;
  /** Who the session acts for; default the local user (admin of the default tenant). */
  principal?: Principal;
}

/** One client's view of the server: its persona, and what its client can do. */
export class McpSession implements SessionControl {
  persona: string;
  readonly readOnly: boolean;
  readonly principal: Principal;
  readonly server: Server;

  constructor(
    readonly runtime: Runtime,
    options: SessionOptions = {},
  ) {
    this.persona = options.persona ?? runtime.defaultPersona;
    this.principal = options.principal ?? localPrincipal(runtime.config);
    // A viewer sees and may call read-only tools only, whatever the persona.
    this.readOnly = (options.readOnly ?? runtime.readOnly) || this.principal.role === 'viewer';
    this.server = new Server(
      { name: 'release-mcp', title: 'release-mcp', version: runtime.version },
      {
        capabilities: { tools: { listChanged: true }, logging: {} },
        instructions:
          'Release engineering tools. Tools are grouped into personas (persona_list, persona_load). Skills (skill_list, skill_run) chain tools into whole release procedures; run them with dry_run first. On a failure, check_known_issues shows what fixed it before.',
      },
    );
    this.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: this.visibleTools().map((tool) => this.describe(tool)) }));
    this.server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      const progressToken = request.params._meta?.progressToken;
      const progress = async (update: Progress) => {
        if (progressToken === undefined) return;
        await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, ...update } });
      };
      const outcome = await this.call(request.params.name, request.params.arguments ?? {}, { signal: extra.signal, progress });
      return toCallToolResult(outcome);
    });
  }

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
    return { name: tool.name, title: tool.title, description: tool.description, inputSchema: input, outputSchema: output, annotations: listedAnnotations(tool.annotations) };
  }

  /** A call from the client: the persona filter applies, and hidden tools look unknown. */
  async call(name: string, args: unknown, options: CallOptions): Promise<ToolOutcome> {
    const tool = this.runtime.catalog.get(name);
    if (!tool || !isToolVisible(tool, this.filter)) {
      if (tool && this.principal.role === 'viewer' && isToolVisible(tool, { ...this.filter, readOnly: this.runtime.readOnly })) await this.auditRefusal(name, 'the viewer role may call read-only tools only');
      const error = unknownToolError(name).toJSON();
      // Unknown names are counted under one label: a client cannot grow the counter map without bound.
      this.runtime.metrics.countToolCall(tool ? name : '(unknown)', error.code);
      return { ok: false, error, text: renderError(name, error) };
    }
    const outcome = await this.runtime.catalog.invoke(name, args, this.context(options), this.runtime.secretValues);
    this.runtime.metrics.countToolCall(name, outcome.ok ? 'ok' : outcome.error.code);
    return outcome;
  }

  private async auditRefusal(tool: string, reason: string): Promise<void> {
    try {
      await recordEvent(this.runtime.memory, { event: 'access.refused', actor: this.principal, details: { tool, reason } });
    } catch (error) {
      this.runtime.logger.warn('could not record a refused call', { tool, message: (error as Error).message });
    }
  }

  /** The ctx handed to handlers. Tools called from inside (skills) skip the persona filter only. */
  context(options: CallOptions): ToolContext {
    return toolContext(this.runtime, this, options);
  }

  async loadPersona(name: string): Promise<{ persona: string; tools: string[] }> {
    const persona = this.personaNamed(name);
    const changed = persona.name !== this.persona;
    this.persona = persona.name;
    if (changed) await this.server.sendToolListChanged().catch(() => undefined);
    this.runtime.logger.info('persona loaded', { persona: persona.name });
    return { persona: persona.name, tools: this.visibleTools().map((t) => t.name) };
  }

  listPersonas(): PersonaSummary[] {
    return personaSummaries(this.runtime, this.persona, this.readOnly);
  }

  /** Present only when the client declared elicitation support. */
  get confirm(): ConfirmFn | undefined {
    if (!this.server.getClientCapabilities()?.elicitation) return undefined;
    return async (message) => {
      const result = await this.server.elicitInput({
        message,
        requestedSchema: {
          type: 'object',
          properties: { confirm: { type: 'boolean', title: 'Proceed', description: 'Proceed with this step' } },
          required: ['confirm'],
        },
      });
      if (result.action !== 'accept') return result.action;
      // Only an explicit `confirm: true` approves: an accept without it (an untouched checkbox) is no approval.
      return result.content?.confirm === true ? 'accept' : 'decline';
    };
  }

  async close(): Promise<void> {
    await this.server.close().catch(() => undefined);
  }
}
