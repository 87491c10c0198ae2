import { ToolError } from '../errors.js';
import { shortEcho } from '../validation.js';
import type { InputSpec, Skill } from './schema.js';
import { renderValue, type Evaluate } from './templates.js';

/**
 * Input values as a skill receives them: coerced to the declared types (a CLI `--input n=5`
 * is a string), defaults rendered, every rule checked, every problem reported by name, all
 * before the first step runs.
 */
export function resolveInputs(skill: Skill, given: Record<string, unknown>, evaluate: Evaluate): Record<string, unknown> {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const key of Object.keys(given)) {
    if (!(key in skill.inputs)) problems.push(`${shortEcho(key)}: not an input of ${skill.name} (inputs: ${Object.keys(skill.inputs).join(', ') || 'none'})`);
  }
  for (const [name, spec] of Object.entries(skill.inputs)) {
    let value = given[name];
    if (value === undefined || value === null || value === '') {
      if (spec.default !== undefined) {
        try {
          value = renderValue(spec.default, evaluate);
        } catch (error) {
          problems.push(`${name}: the default ${JSON.stringify(spec.default)} failed: ${(error as Error).message}`);
          continue;
        }
      } else if (spec.required) {
        problems.push(`${name}: required (${spec.type}${spec.description ? `: ${spec.description}` : ''})`);
        continue;
      } else {
        continue;
      }
    }
    const checked = checkInputValue(spec, value);
    if (typeof checked === 'string') problems.push(`${name}: ${checked}`);
    else values[name] = checked.value;
  }
  if (problems.length) {
    throw new ToolError('invalid_input', `invalid inputs for skill ${skill.name}: ${problems.join('; ')}`, {
      hint: 'fix the named inputs and run again; no step was run',
      details: { problems },
    });
  }
  return values;
}

/**
 * One value checked as a run checks it: coerced to the declared type, then enum and pattern.
 * The value it becomes, or what is wrong with it. The loader checks literal defaults with it too,
 * so a default that a run would refuse is refused when the skill is read.
 */
export function checkInputValue(spec: Pick<InputSpec, 'type' | 'enum' | 'pattern'>, raw: unknown): { value: unknown } | string {
  const value = coerceInput(spec.type, raw);
  if (value === undefined) return `expected ${typeName(spec.type)}, got ${shortEcho(JSON.stringify(raw) ?? String(raw))}`;
  if (spec.enum && !spec.enum.some((allowed) => JSON.stringify(allowed) === JSON.stringify(value))) {
    return `expected one of ${spec.enum.map((v) => JSON.stringify(v)).join(', ')}, got ${shortEcho(JSON.stringify(value))}`;
  }
  if (spec.pattern !== undefined && typeof value === 'string' && !new RegExp(spec.pattern).test(value)) {
    return `"${shortEcho(value)}" does not match /${spec.pattern}/`;
  }
  return { value };
}

/** `an integer`, `a string`, `an object`. */
export function typeName(type: InputSpec['type']): string {
  return `a${/^[aeiou]/.test(type) ? 'n' : ''} ${type}`;
}

/** The value in the declared type, or undefined when it cannot be read as one. */
export function coerceInput(type: InputSpec['type'], raw: unknown): unknown {
  switch (type) {
    case 'string':
      return typeof raw === 'string' ? raw : typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : undefined;
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'string' && /^(true|yes|1)$/i.test(raw.trim())) return true;
      if (typeof raw === 'string' && /^(false|no|0)$/i.test(raw.trim())) return false;
      return undefined;
    case 'integer':
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+(\.\d+)?([eE][+-]?\d+)?\s*$/.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isFinite(n) || (type === 'integer' && !Number.isInteger(n))) return undefined;
      return n;
    }
    case 'array':
      if (Array.isArray(raw)) return raw;
      if (typeof raw === 'string') {
        const text = raw.trim();
        if (text.startsWith('[')) return parseJson(text, Array.isArray);
        return text === '' ? [] : text.split(',').map((part) => part.trim());
      }
      return undefined;
    case 'object':
      if (raw && typeof raw === 'object' && !Array.isArray(raw)) return raw;
      if (typeof raw === 'string') return parseJson(raw, (v) => !!v && typeof v === 'object' && !Array.isArray(v));
      return undefined;
  }
}

function parseJson(text: string, accept: (value: unknown) => boolean): unknown {
  try {
    const value = JSON.parse(text) as unknown;
    return accept(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
