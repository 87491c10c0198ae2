import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseYaml } from '../lazy-yaml.js';
import { assetPath } from '../paths.js';
import { formatIssues } from '../validation.js';
import { personaSchema, type Persona } from './schema.js';

export const BUILTIN_PERSONAS_DIR = assetPath('personas/builtin');

/** Load every persona file in a folder; a bad file is an error naming the file and the field. */
export function loadPersonas(dir: string = BUILTIN_PERSONAS_DIR): Map<string, Persona> {
  const personas = new Map<string, Persona>();
  // The build turns the YAML sources into JSON (no YAML parser on the start path); both load.
  for (const file of readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort()) {
    const path = join(dir, file);
    const text = readFileSync(path, 'utf8');
    // jitless: each file is parsed once, so compiling zod's fast path would cost more than it saves.
    const parsed = personaSchema.safeParse(file.endsWith('.json') ? JSON.parse(text) : parseYaml(text), { jitless: true });
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
