import { z } from 'zod';
import { defineTool } from './registry.js';

const personaSummarySchema = z.object({
  name: z.string(),
  description: z.string(),
  families: z.array(z.string()),
  tools: z.array(z.string()),
  skills: z.array(z.string()),
  active: z.boolean(),
  tool_count: z.number().int().describe('Tools visible with this persona (core included, read-only mode applied)'),
});

export const personaList = defineTool({
  name: 'persona_list',
  family: 'meta',
  title: 'List personas',
  description: 'List the personas (tool sets) and which one is active. Core tools are always available.',
  input: z.object({}),
  output: z.object({ active: z.string(), read_only: z.boolean(), personas: z.array(personaSummarySchema) }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: (_args, ctx) => ({ active: ctx.session.persona, read_only: ctx.session.readOnly, personas: ctx.session.listPersonas() }),
  summarize: (r) => `active persona: ${r.active}; available: ${r.personas.map((p) => p.name).join(', ')}`,
});

export const personaLoad = defineTool({
  name: 'persona_load',
  family: 'meta',
  title: 'Switch persona',
  description: 'Switch the active persona: the tool list changes (the client is notified with tools/list_changed).',
  input: z.object({ persona: z.string().trim().min(1).describe('Persona name, see persona_list') }),
  output: z.object({ persona: z.string(), previous: z.string(), tools: z.array(z.string()) }),
  // Changes only this session's view of the tools, nothing outside the server.
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async ({ persona }, ctx) => {
    const previous = ctx.session.persona;
    const loaded = await ctx.session.loadPersona(persona);
    return { persona: loaded.persona, previous, tools: loaded.tools };
  },
  summarize: (r) => `persona ${r.persona} loaded: ${r.tools.length} tools`,
});

export const metaTools = [personaList, personaLoad] as const;
