import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { formatIssues } from '../validation.js';
import { personaSchema, type Persona } from './schema.js';

export const BUILTIN_PERSONAS_DIR = fileURLToPath(new URL('./builtin/', import.meta.url));

/** Load every persona file in a folder; a bad file is an error naming the file and the field. */
export function loadPersonas(dir: string = BUILTIN_PERSONAS_DIR): Map<string, Persona> {
  const personas = new Map<string, Persona>();
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const path = join(dir, file);
    const parsed = personaSchema.safeParse(parse(readFileSync(path, 'utf8')));
    if (!parsed.success) throw new Error(`invalid persona file ${path}:\n${formatIssues(parsed.error.issues).join('\n')}`);
    if (personas.has(parsed.data.name)) throw new Error(`persona "${parsed.data.name}" is defined twice (${path})`);
    personas.set(parsed.data.name, parsed.data);
  }
  if (!personas.has('core')) throw new Error(`no core persona in ${dir}`);
  return personas;
}

/**
 * A persona that names a tool or family that does not exist is a startup error, never a silent
 * skip: a persona that quietly loads nothing is how the original failed its users.
 */
export function checkPersonas(personas: ReadonlyMap<string, Persona>, toolNames: ReadonlySet<string>, families: ReadonlySet<string>): void {
  const problems: string[] = [];
  for (const persona of personas.values()) {
    persona.families.forEach((family, i) => {
      if (!families.has(family)) problems.push(`persona ${persona.name}: families[${i}]: no tool family "${family}" (known: ${[...families].sort().join(', ')})`);
    });
    persona.tools.forEach((tool, i) => {
      if (!toolNames.has(tool)) problems.push(`persona ${persona.name}: tools[${i}]: no tool "${tool}"`);
    });
  }
  if (problems.length) throw new Error(`invalid personas:\n${problems.join('\n')}`);
}

export function unknownPersonaMessage(name: string, personas: ReadonlyMap<string, Persona>): string {
  return `unknown persona "${name}"; known personas: ${[...personas.keys()].join(', ')}`;
}
