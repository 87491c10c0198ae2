import { ProtocolError, ProtocolErrorCode, ResourceNotFoundError, type Server } from '@modelcontextprotocol/server';
import { ToolError } from '../errors.js';
import { redactSecrets } from '../masking.js';
import { isResourceKindVisible } from '../personas/index.js';
import type { Principal } from '../principal.js';
import type { CompletionRef, ContentDeps } from '../resources/index.js';
import { RESOURCE_KIND_NAMES, RESOURCE_KINDS } from '../resources/kinds.js';
import type { ToolListing } from '../tools/registry.js';
import type { Runtime } from './runtime.js';

/** Capabilities of the handlers below, for the session's Server. */
export const CONTENT_CAPABILITIES = { resources: { listChanged: true }, prompts: {}, completions: {} } as const;

/** What the handlers read of a session (McpSession has it). */
export interface ContentSession {
  readonly runtime: Runtime;
  readonly principal: Principal;
  visibleTools(): ToolListing[];
}

/** The session's view: its tenant, and the resource kinds its persona and read-only rule let it see. */
export function contentDeps(session: ContentSession): ContentDeps {
  const { runtime } = session;
  const tools = session.visibleTools();
  return {
    config: runtime.config,
    memory: runtime.memory,
    secrets: runtime.secrets,
    secretValues: runtime.secretValues,
    principal: session.principal,
    kinds: new Set(RESOURCE_KIND_NAMES.filter((kind) => isResourceKindVisible(RESOURCE_KINDS[kind], tools))),
    personas: [...runtime.personas.keys()],
    skills: runtime.services.skills,
  };
}

/**
 * A ToolError from the reads as the protocol error a client expects, the message masked: a miss is
 * the SDK's resource-not-found error (naming the URI in its data), bad input invalid params.
 */
function protocolError(error: unknown, secrets: readonly string[]): Error {
  if (error instanceof ProtocolError) return error;
  const message = redactSecrets((error as Error).message ?? String(error), secrets);
  if (error instanceof ToolError) {
    if (error.code === 'not_found' && typeof error.details?.uri === 'string') return new ResourceNotFoundError(error.details.uri, message);
    if (error.code === 'invalid_input') return new ProtocolError(ProtocolErrorCode.InvalidParams, message);
  }
  return new ProtocolError(ProtocolErrorCode.InternalError, message);
}

/** Plain handlers (params in, result out), registered below. */
export function contentHandlers(session: ContentSession) {
  // The readers (and the skill files they read) load on the first request for them: a server
  // answers initialize and tools/list without them.
  const guard = async <T>(work: (resources: typeof import('../resources/index.js'), deps: ContentDeps) => Promise<T> | T): Promise<T> => {
    try {
      return await work(await import('../resources/index.js'), contentDeps(session));
    } catch (error) {
      throw protocolError(error, session.runtime.secretValues);
    }
  };
  return {
    listResources: (params: { cursor?: string | undefined } | undefined) => guard((r, deps) => r.listResources(deps, params?.cursor)),
    listResourceTemplates: () => guard((r, deps) => ({ resourceTemplates: r.listResourceTemplates(deps) })),
    readResource: (params: { uri: string }) => guard(async (r, deps) => ({ contents: [await r.readResource(deps, params.uri)] })),
    listPrompts: () => guard((r, deps) => ({ prompts: r.listPrompts(deps) })),
    getPrompt: (params: { name: string; arguments?: Record<string, string> | undefined }) =>
      guard((r, deps) => r.getPrompt(deps, params.name, params.arguments ?? {}, { canRun: session.visibleTools().some((t) => t.name === 'skill_run') })),
    complete: (params: { ref: CompletionRef | { type: string }; argument: { name: string; value: string } }) =>
      guard(async (r, deps) => {
        const ref = params.ref as CompletionRef;
        if (ref.type !== 'ref/prompt' && ref.type !== 'ref/resource') throw new ToolError('invalid_input', `ref.type: expected ref/prompt or ref/resource`);
        return { completion: await r.complete(deps, ref, params.argument) };
      }),
  };
}

/** Register resources, prompts and completion on a session's Server. */
export function registerContentHandlers(server: Server, session: ContentSession): void {
  const handlers = contentHandlers(session);
  server.setRequestHandler('resources/list', (request) => handlers.listResources(request.params));
  server.setRequestHandler('resources/templates/list', () => handlers.listResourceTemplates());
  server.setRequestHandler('resources/read', (request) => handlers.readResource(request.params));
  server.setRequestHandler('prompts/list', () => handlers.listPrompts());
  server.setRequestHandler('prompts/get', (request) => handlers.getPrompt(request.params));
  server.setRequestHandler('completion/complete', (request) => handlers.complete(request.params));
}
