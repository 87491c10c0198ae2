import type { z } from 'zod';
import type { AnyToolDefinition, ToolCatalog } from '../tools/registry.js';
import type { LintFinding } from '../tools/skills.js';
import { coerceToSchema } from '../validation.js';
import { ExpressionError, HELPER_NAMES, type ExpressionKind, type ExpressionSandbox } from './expressions.js';
import type { LoadedSkill } from './loader.js';
import { RESERVED_NAMES, type Skill, type Step } from './schema.js';
import { hasTemplate, referencedNames, templateExpressions } from './templates.js';

/** The tools with their zod schemas: the caller imports the modules of the tools a skill names first. */
type Catalog = Pick<ToolCatalog, 'inputSchema'> & { get(name: string): AnyToolDefinition | undefined };

const GLOBALS = new Set([
  ...RESERVED_NAMES,
  ...HELPER_NAMES,
  ...'Object Array String Number Boolean Math JSON Date RegExp Map Set Error TypeError RangeError parseInt parseFloat isNaN isFinite encodeURIComponent decodeURIComponent BigInt Symbol Promise Reflect globalThis arguments'.split(' '),
]);

/**
 * Check skills against the schema (done by the loader: with it, input types, patterns, enum
 * values and literal defaults), the tools they call (names, argument
 * names, required arguments, literal values, all through each tool's zod schema), the outputs
 * they read, and whether every expression parses.
 */
export function lintSkill(loaded: LoadedSkill, catalog: Catalog, sandbox: ExpressionSandbox): LintFinding[] {
  const { skill, file } = loaded;
  const findings: LintFinding[] = [];
  const add = (path: string, message: string) => findings.push({ skill: skill.name, file, path, message });
  const outputsBefore = new Set<string>();
  const stepsBefore = new Set<string>();
  const laterOutputs = new Map<string, string>();
  for (const step of [...skill.steps, ...skill.finally]) if (step.output) laterOutputs.set(step.output, step.name);

  const checkSource = (kind: ExpressionKind, source: string, path: string, strictNames: boolean) => {
    try {
      sandbox.check(kind, source);
    } catch (error) {
      add(path, `does not parse: ${error instanceof ExpressionError ? error.message : (error as Error).message}`);
      return;
    }
    for (const name of referencedNames(source)) {
      if (outputsBefore.has(name) || GLOBALS.has(name)) continue;
      if (laterOutputs.has(name)) add(path, `reads "${name}", the output of step ${laterOutputs.get(name)}, which has not run yet at this point`);
      else if (strictNames) add(path, `unknown name "${name}" (not an input scope name, helper or earlier output)`);
    }
    for (const m of source.matchAll(/\bsteps\.([A-Za-z_]\w*)/g)) {
      if (!stepsBefore.has(m[1]!)) add(path, `reads steps.${m[1]}, which is not an earlier step`);
    }
  };
  const checkTemplates = (value: unknown, path: string) => {
    for (const { path: inner, expr } of templateExpressions(value)) checkSource('expression', expr, inner ? `${path}.${inner}` : path, true);
  };

  const lintSteps = (steps: Step[], list: 'steps' | 'finally') =>
    steps.forEach((step, i) => {
      const at = `${list}[${i}]`;
      if (step.condition !== undefined) checkSource('expression', step.condition, `${at}.condition`, true);
      if (step.compute !== undefined) checkSource('body', step.compute, `${at}.compute`, false);
      if (step.assert !== undefined) checkSource('expression', step.assert, `${at}.assert`, true);
      if (step.message !== undefined) checkTemplates(step.message, `${at}.message`);
      if (step.confirm !== undefined) checkTemplates(step.confirm, `${at}.confirm`);
      if (step.tool !== undefined) {
        checkTemplates(step.args ?? {}, `${at}.args`);
        const tool = catalog.get(step.tool);
        if (!tool) add(`${at}.tool`, `no tool "${step.tool}"`);
        else for (const problem of checkArgs(tool, step.args ?? {}, catalog)) add(`${at}.args${problem.path ? `.${problem.path}` : ''}`, problem.message);
      }
      stepsBefore.add(step.name);
      if (step.output) outputsBefore.add(step.output);
    });
  lintSteps(skill.steps, 'steps');
  outputsBefore.add('run');
  lintSteps(skill.finally, 'finally');
  if (skill.outputs) checkTemplates(skill.outputs, 'outputs');
  return findings;
}

/** Arguments checked by the tool's own zod schema; values that are templates are known only at run time. */
function checkArgs(tool: AnyToolDefinition, args: Record<string, unknown>, catalog: Catalog): Array<{ path: string; message: string }> {
  const dynamic = new Set(Object.keys(args).filter((key) => hasTemplate(args[key])));
  const probe = coerceToSchema(args, catalog.inputSchema(tool.name) as Parameters<typeof coerceToSchema>[1]);
  const schema = (tool.input as z.ZodObject).strict();
  const parsed = schema.safeParse(probe);
  if (parsed.success) return [];
  const problems: Array<{ path: string; message: string }> = [];
  for (const issue of parsed.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = Object.keys((tool.input as z.ZodObject).shape).join(', ');
      for (const key of issue.keys) problems.push({ path: key, message: `${tool.name} has no argument "${key}" (arguments: ${known})` });
      continue;
    }
    const top = String(issue.path[0] ?? '');
    if (dynamic.has(top)) continue;
    const missing = issue.code === 'invalid_type' && !(top in args);
    problems.push({ path: issue.path.map(String).join('.'), message: missing ? `required argument of ${tool.name} is missing` : issue.message.replace(/^Invalid input: /, '') });
  }
  return problems;
}

export type { Skill };
