import { z } from 'zod';
import { checkInputValue, coerceInput, typeName } from './inputs.js';
import { hasTemplate } from './templates.js';

/** `2s`, `500ms`, `1m`, or a number of milliseconds. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
  if (!match) return Number.NaN;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(match[1]) * unit);
}

const duration = z
  .union([z.number().nonnegative(), z.string()])
  .transform((value, ctx) => {
    const ms = parseDuration(value);
    if (!Number.isFinite(ms) || ms < 0) {
      ctx.addIssue({ code: 'custom', message: `expected a duration such as "2s", "500ms" or a number of milliseconds, got "${value}"` });
      return z.NEVER;
    }
    return ms;
  });

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const identifier = (what: string) => z.string().regex(IDENTIFIER, `expected a ${what} made of letters, digits and _ (not starting with a digit)`);

export const INPUT_TYPES = ['string', 'boolean', 'integer', 'number', 'array', 'object'] as const;

const inputFields = {
  type: z.enum(INPUT_TYPES, { error: (issue) => `unknown input type ${JSON.stringify(issue.input)} (types: ${INPUT_TYPES.join(', ')})` }).default('string'),
  required: z.boolean().default(false),
  default: z.unknown().optional().describe('A string default is rendered, so "{{ today }}" becomes the date'),
  description: z.string().default(''),
  enum: z.array(z.unknown()).min(1).optional(),
  pattern: z.string().optional().describe('Regular expression a string value must match'),
};

/**
 * What a run would refuse, refused when the skill is read: a pattern that is not a regular
 * expression, an enum value or a literal default that does not fit the input's type and rules.
 * A default with a template (`{{ today }}`) is known only when rendered at run time.
 */
function checkInputSpec(spec: z.output<z.ZodObject<typeof inputFields>>, ctx: z.RefinementCtx): void {
  if (spec.pattern !== undefined) {
    try {
      new RegExp(spec.pattern);
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: `not a valid regular expression: ${(error as Error).message}` });
      return;
    }
  }
  spec.enum?.forEach((allowed, i) => {
    const coerced = coerceInput(spec.type, allowed);
    // Enum values are compared with the coerced input: one of another type could never match.
    if (coerced === undefined || JSON.stringify(coerced) !== JSON.stringify(allowed)) {
      ctx.addIssue({ code: 'custom', path: ['enum', i], message: `expected ${typeName(spec.type)} (the input's type), got ${JSON.stringify(allowed)}` });
    }
  });
  if (spec.default === undefined || hasTemplate(spec.default)) return;
  const checked = checkInputValue(spec, spec.default);
  if (typeof checked === 'string') ctx.addIssue({ code: 'custom', path: ['default'], message: `the default does not fit the input: ${checked}` });
}

export const inputSpecSchema = z.strictObject(inputFields).superRefine(checkInputSpec);
const listInputSchema = z.strictObject({ name: identifier('input name'), ...inputFields }).superRefine(checkInputSpec);
const inputMapSchema = z.record(identifier('input name'), inputSpecSchema);
const inputListSchema = z.array(listInputSchema);

/**
 * Inputs as a map (`x: { type: string }`) or the original's list (`- name: x`). The form is
 * chosen by shape and checked on its own, so each problem keeps its path (`inputs.x.type`); a
 * union of the two would report only "inputs: Invalid input".
 */
const inputsSchema = z.unknown().optional().transform((inputs, ctx): Record<string, InputSpec> => {
  if (inputs === undefined) return {};
  const parsed = Array.isArray(inputs) ? inputListSchema.safeParse(inputs) : inputMapSchema.safeParse(inputs);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ ...issue });
    return z.NEVER;
  }
  if (!Array.isArray(parsed.data)) return parsed.data;
  const map: Record<string, InputSpec> = {};
  parsed.data.forEach(({ name, ...spec }, i) => {
    if (map[name]) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `input "${name}" is declared twice` });
    map[name] = spec;
  });
  return map;
});

const retrySchema = z.strictObject({
  attempts: z.number().int().min(1).max(20).default(3).describe('Total attempts, the first included'),
  delay: duration.default(1000),
  factor: z.number().min(1).max(10).default(2),
});

export const stepSchema = z
  .strictObject({
    name: identifier('step name'),
    description: z.string().optional(),
    tool: z.string().optional(),
    args: z.record(z.string(), z.unknown()).optional(),
    compute: z.string().optional().describe('JavaScript function body; its return value is the output'),
    assert: z.string().optional().describe('JavaScript expression that must be true'),
    message: z.string().optional().describe('Failure message of an assert'),
    confirm: z.string().optional().describe('Question to approve before going on'),
    condition: z.string().optional().describe('JavaScript expression; the step is skipped when false'),
    output: identifier('output name').optional(),
    on_error: z.enum(['fail', 'continue', 'auto_heal']).default('fail'),
    retry: retrySchema.optional(),
    timeout: duration.optional(),
  })
  .superRefine((step, ctx) => {
    const kinds = (['tool', 'compute', 'assert', 'confirm'] as const).filter((k) => step[k] !== undefined);
    if (kinds.length > 1) ctx.addIssue({ code: 'custom', message: `a step is one of tool, compute, assert, confirm; this one has ${kinds.join(' and ')}` });
    if (kinds.length === 0 && !step.description) ctx.addIssue({ code: 'custom', message: 'a step needs tool, compute, assert, confirm or at least a description' });
    if (step.args && step.tool === undefined) ctx.addIssue({ code: 'custom', path: ['args'], message: 'args belong to a tool step' });
    if (step.message !== undefined && step.assert === undefined) ctx.addIssue({ code: 'custom', path: ['message'], message: 'message belongs to an assert step' });
    if (step.retry && step.tool === undefined) ctx.addIssue({ code: 'custom', path: ['retry'], message: 'retry applies to tool steps only' });
    if (step.output && step.tool === undefined && step.compute === undefined) ctx.addIssue({ code: 'custom', path: ['output'], message: 'only tool and compute steps produce an output' });
  });

export const skillSchema = z
  .strictObject({
    name: identifier('skill name'),
    description: z.string().min(1),
    version: z.union([z.string(), z.number()]).transform(String).default('1'),
    persona: z.string().optional().describe('Persona this skill is meant for (a hint only)'),
    inputs: inputsSchema,
    steps: z.array(stepSchema).min(1),
    finally: z.array(stepSchema).default([]).describe('Steps that always run at the end (notifications, logs)'),
    outputs: z.record(identifier('output name'), z.unknown()).optional().describe('Values the run returns, usually templates'),
  })
  .superRefine((skill, ctx) => {
    const seen = new Map<string, string>();
    const check = (steps: StepLike[], list: 'steps' | 'finally') =>
      steps.forEach((step, i) => {
        if (seen.has(step.name)) ctx.addIssue({ code: 'custom', path: [list, i, 'name'], message: `step name "${step.name}" is used twice` });
        seen.set(step.name, list);
      });
    check(skill.steps, 'steps');
    check(skill.finally, 'finally');
    const outputs = new Set<string>();
    [...skill.steps, ...skill.finally].forEach((step, i) => {
      if (!step.output) return;
      const list = i < skill.steps.length ? 'steps' : 'finally';
      const index = list === 'steps' ? i : i - skill.steps.length;
      if (outputs.has(step.output)) ctx.addIssue({ code: 'custom', path: [list, index, 'output'], message: `output "${step.output}" is produced twice` });
      if (RESERVED_NAMES.has(step.output)) ctx.addIssue({ code: 'custom', path: [list, index, 'output'], message: `output name "${step.output}" is reserved` });
      outputs.add(step.output);
    });
  });

interface StepLike {
  name: string;
}

/** Names the expression scope defines itself: an output may not shadow them. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(['inputs', 'config', 'steps', 'today', 'now', 'run']);

export type InputSpec = z.output<typeof inputSpecSchema>;
export type Step = z.output<typeof stepSchema>;
export type Skill = z.output<typeof skillSchema>;
export type StepKind = 'tool' | 'compute' | 'assert' | 'confirm' | 'note';

export function stepKind(step: Step): StepKind {
  if (step.tool !== undefined) return 'tool';
  if (step.compute !== undefined) return 'compute';
  if (step.assert !== undefined) return 'assert';
  if (step.confirm !== undefined) return 'confirm';
  return 'note';
}
