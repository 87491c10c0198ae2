import { ToolError } from '../errors.js';

/**
 * A value that goes to git where a ref, remote, path or message is expected: never one that git
 * could read as an option, never one with control characters.
 */
export function safeArg(value: string, field: string): string {
  if (value.length === 0) throw new ToolError('invalid_input', `${field} must not be empty`);
  if (value.startsWith('-')) throw new ToolError('invalid_input', `${field} must not start with "-": ${value}`, { hint: 'git would read it as an option' });
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new ToolError('invalid_input', `${field} must not contain control characters`);
  return value;
}

/** A revision range `A..B` or `A...B`: each side is a safe ref (either side may be empty). */
export function safeRange(value: string, field: string): string {
  const parts = value.split(/\.{2,3}/);
  if (parts.length > 2) throw new ToolError('invalid_input', `${field} must look like A..B or A...B: ${value}`);
  if (parts.every((p) => p === '')) throw new ToolError('invalid_input', `${field} must name at least one side`);
  for (const part of parts) if (part !== '') safeArg(part, field);
  return value;
}

/** A branch or tag name as git accepts it (the rules of git check-ref-format, simplified). */
export function safeRefName(value: string, field: string): string {
  safeArg(value, field);
  const bad = /(^\/|\/$|\/\/|\.\.|@\{|[\s~^:?*[\\]|\.lock$|\.$|^@$|(^|\/)\.)/;
  if (bad.test(value)) throw new ToolError('invalid_input', `${field} is not a valid git ref name: ${value}`);
  return value;
}
