import { ToolError } from '../errors.js';
import { redactSecrets } from '../masking.js';
import { checkInputValue, typeName } from '../skills/inputs.js';
import type { InputSpec, Skill } from '../skills/schema.js';
import { shortEcho } from '../validation.js';
import type { ContentDeps } from './deps.js';
import { firstSentence, skillLibrary } from './skill-files.js';

/** A prompts/list entry (the MCP Prompt shape, without MCP types). */
export interface PromptEntry {
  name: string;
  title: string;
  description: string;
  arguments: Array<{ name: string; description: string; required: boolean }>;
}

export type PromptText = {
  description: string;
  messages: Array<{ role: 'user'; content: { type: 'text'; text: string } }>;
};

/** An input the caller must give: required and without a default. */
const mustGive = (spec: InputSpec) => spec.required && spec.default === undefined;

function describeInput(spec: InputSpec): string {
  const rules = [
    typeName(spec.type),
    spec.enum ? `one of ${spec.enum.map((v) => JSON.stringify(v)).join(', ')}` : undefined,
    spec.pattern ? `matching /${spec.pattern}/` : undefined,
    spec.default !== undefined ? `default ${JSON.stringify(spec.default)}` : undefined,
  ].filter(Boolean);
  return [spec.description, `(${rules.join(', ')})`].filter(Boolean).join(' ');
}

/** Every skill of the library as a prompt: its inputs are the arguments. */
export function listPrompts(deps: Pick<ContentDeps, 'config'>): PromptEntry[] {
  return [...skillLibrary(deps.config).values()].map(({ skill }) => ({
    name: skill.name,
    title: `Run skill ${skill.name}`,
    description: skill.description.trim(),
    arguments: Object.entries(skill.inputs).map(([name, spec]) => ({ name, description: describeInput(spec), required: mustGive(spec) })),
  }));
}

/** The skill of a prompt name; InvalidParams-class error naming it when there is none. */
export function promptSkill(deps: Pick<ContentDeps, 'config'>, name: string): Skill {
  const loaded = skillLibrary(deps.config).get(name);
  if (!loaded) throw new ToolError('invalid_input', `name: no prompt "${shortEcho(name)}" (prompts are the skills: ${[...skillLibrary(deps.config).keys()].join(', ')})`);
  return loaded.skill;
}

/**
 * Arguments checked by the skill's own input rules (type, enum, pattern, required), every
 * problem named; the values as the skill will receive them. Defaults are left to the run.
 */
export function checkPromptArguments(skill: Skill, given: Record<string, string>): Record<string, unknown> {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(given)) {
    if (!(name in skill.inputs)) problems.push(`${shortEcho(name, 40)}: not an argument of ${skill.name} (arguments: ${Object.keys(skill.inputs).join(', ') || 'none'})`);
  }
  for (const [name, spec] of Object.entries(skill.inputs)) {
    const raw = given[name];
    if (raw === undefined || raw === '') {
      if (mustGive(spec)) problems.push(`${name}: required (${typeName(spec.type)}${spec.description ? `: ${spec.description}` : ''})`);
      continue;
    }
    const checked = checkInputValue(spec, raw);
    if (typeof checked === 'string') problems.push(`${name}: ${checked}`);
    else values[name] = checked.value;
  }
  if (problems.length) throw new ToolError('invalid_input', `invalid arguments for prompt ${skill.name}: ${problems.join('; ')}`, { details: { problems } });
  return values;
}

/**
 * The user message that starts a skill: plan first (skill_plan), run for real only once the user
 * confirms, as the server's instructions say. A session that cannot run skills is told to plan.
 */
export function getPrompt(deps: Pick<ContentDeps, 'config' | 'secretValues'>, name: string, args: Record<string, string>, options: { canRun: boolean }): PromptText {
  const skill = promptSkill(deps, name);
  const inputs = checkPromptArguments(skill, args);
  const defaulted = Object.entries(skill.inputs).filter(([input, spec]) => !(input in inputs) && spec.default !== undefined);
  const call = JSON.stringify({ name: skill.name, inputs });
  const lines = [
    `Run the release-mcp skill ${skill.name}: ${firstSentence(skill.description)}`,
    '',
    `Inputs: ${JSON.stringify(inputs)}`,
    ...(defaulted.length ? [`Left to their defaults: ${defaulted.map(([input, spec]) => `${input} = ${JSON.stringify(spec.default)}`).join(', ')}`] : []),
    '',
    `First plan it: call skill_plan with ${call} and show me each step, what it found and the arguments of the steps that would change something.`,
    options.canRun
      ? `Then, only after I confirm the plan, run it with skill_run (same name and inputs). If a step fails, show me the error and the known fixes in the run report before doing anything else.`
      : 'This session is read-only: plan only, do not try to run it.',
  ];
  return {
    description: `Plan, then run, the skill ${skill.name}`,
    messages: [{ role: 'user', content: { type: 'text', text: redactSecrets(lines.join('\n'), deps.secretValues) } }],
  };
}
