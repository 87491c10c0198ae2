import { z } from 'zod';

export const personaSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_-]*$/, 'expected a lower-case name'),
  description: z.string().min(1),
  families: z.array(z.string()).default([]).describe('Tool families this persona enables'),
  tools: z.array(z.string()).default([]).describe('Single tools this persona enables'),
  skills: z.array(z.string()).default([]).describe('Skills this persona is meant for (shown by persona_list)'),
});

export type Persona = z.infer<typeof personaSchema>;
