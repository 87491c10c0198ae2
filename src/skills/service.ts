import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config.js';
import { ToolError } from '../errors.js';
import { abandonRun, effectiveStatus, getRun, listRuns, type MemoryDb, type RunRecord } from '../memory/index.js';
import type { ToolCatalog } from '../tools/registry.js';
import type { LintFinding, LintReport, RunsResult, SkillDescription, SkillService, SkillSummary } from '../tools/skills.js';
// The engine, the linter and the expression sandbox are imported when a skill runs or is linted:
// a server that starts does not load them.
import { stepResultOf, stoppedStatus } from './run-records.js';
import { BUILTIN_SKILLS_DIR, loadSkillFile, loadSkills, readSkillLibrary, SkillFileError, SkillLoadError, type LoadedSkill } from './loader.js';
import { stepKind } from './schema.js';

export interface SkillServiceDeps {
  catalog: Pick<ToolCatalog, 'get' | 'inputSchema' | 'checkArgs' | 'load' | 'loaded'>;
  config: Config;
  memory: MemoryDb;
}

function isFilePath(target: string): boolean {
  return /\.ya?ml$/i.test(target) || target.includes('/');
}

/** The skill engine behind the skill tools and the CLI. Skill files are read when used, never at startup. */
export function createSkillService(deps: SkillServiceDeps): SkillService {
  const library = (): Map<string, LoadedSkill> => {
    try {
      return loadSkills(deps.config.skills_dirs);
    } catch (error) {
      if (error instanceof SkillLoadError) throw new ToolError('config', `cannot load skills:\n${error.message}`, { hint: 'fix the named files (release-mcp skill lint shows every problem)' });
      throw error;
    }
  };
  const find = (name: string): LoadedSkill => {
    const skills = library();
    const loaded = skills.get(name);
    if (!loaded) throw new ToolError('not_found', `no skill "${name}"`, { hint: `known skills: ${[...skills.keys()].join(', ') || 'none'}` });
    return loaded;
  };
  const fromFile = (file: string): LoadedSkill => {
    try {
      return loadSkillFile(resolve(file));
    } catch (error) {
      if (error instanceof SkillFileError) throw new ToolError('invalid_input', error.message, { hint: 'fix the named fields of the skill file; nothing was planned' });
      throw error;
    }
  };
  const lintLoaded = async (loaded: readonly LoadedSkill[]): Promise<LintFinding[]> => {
    // Arguments are checked by each tool's zod schema: the modules of the tools named are imported first.
    const named = new Set(loaded.flatMap(({ skill }) => [...skill.steps, ...skill.finally].flatMap((s) => (s.tool && deps.catalog.get(s.tool) ? [s.tool] : []))));
    await Promise.all([...named].map((name) => deps.catalog.load(name)));
    const tools = { get: (name: string) => deps.catalog.loaded(name), inputSchema: (name: string) => deps.catalog.inputSchema(name) };
    const [{ ExpressionSandbox }, { lintSkill }] = await Promise.all([import('./expressions.js'), import('./lint.js')]);
    const sandbox = await ExpressionSandbox.create({ timeoutMs: deps.config.skills.expression_timeout_ms, memoryMb: deps.config.skills.expression_memory_mb });
    try {
      return loaded.flatMap((skill) => lintSkill(skill, tools, sandbox));
    } finally {
      sandbox.dispose();
    }
  };
  /**
   * A skill file from outside the skill folders (the CLI's `plan --file`): planned only, and only
   * once it passes lint, read once so the plan is of the very text that was linted.
   */
  const planableFile = async (file: string, dryRun: boolean): Promise<LoadedSkill> => {
    if (!dryRun) throw new ToolError('invalid_input', `${file}: a skill file outside the skills folders is only planned, not run`, { hint: 'plan it (release-mcp skill plan --file); to run it, put it in a folder of config skills_dirs' });
    const loaded = fromFile(file);
    const findings = await lintLoaded([loaded]);
    if (findings.length) {
      throw new ToolError('invalid_input', `${file} does not pass lint; nothing was planned:\n${findings.map((f) => `  ${f.path ? `${f.path}: ` : ''}${f.message}`).join('\n')}`, {
        hint: 'fix the named fields and plan again',
        details: { findings },
      });
    }
    return loaded;
  };
  const engine = { tools: deps.catalog, config: deps.config, memory: deps.memory };

  // A run whose process died reads as interrupted, whoever looks.
  const summary = (run: RunRecord) => runSummary({ ...run, status: effectiveStatus(run, deps.config.skills.lease_ms) });

  return {
    abandon: async (runId: string, tenant: string, reason?: string) => {
      const stored = await getRun(deps.memory, tenant, runId);
      if (!stored) throw new ToolError('not_found', `no skill run ${runId}`, { hint: 'skill_runs lists recent runs' });
      const { run } = stored;
      const status = stoppedStatus(run, deps.config.skills.lease_ms, 'abandoned');
      const why = `abandoned${reason ? `: ${reason}` : ''} (was ${status})`;
      if (!(await abandonRun(deps.memory, tenant, runId, run, why))) throw new ToolError('conflict', `run ${runId} changed while it was being abandoned (resumed by another call?)`, { hint: 'skill_runs shows its state now' });
      return summary((await getRun(deps.memory, tenant, runId))!.run);
    },

    list: async (): Promise<SkillSummary[]> =>
      [...library().values()].map(({ skill, file }) => ({ name: skill.name, description: skill.description, version: skill.version, inputs: Object.keys(skill.inputs), steps: skill.steps.length, file })),

    describe: async (name: string): Promise<SkillDescription> => {
      const { skill, file } = find(name);
      const steps = [...skill.steps.map((s) => ({ s, phase: 'main' as const })), ...skill.finally.map((s) => ({ s, phase: 'finally' as const }))].map(({ s, phase }) => ({
        name: s.name,
        phase,
        kind: stepKind(s),
        ...(s.tool ? { tool: s.tool, read_only: deps.catalog.get(s.tool)?.annotations.readOnlyHint ?? false } : {}),
        ...(s.description ? { description: s.description } : {}),
        ...(s.condition ? { condition: s.condition } : {}),
        on_error: s.on_error,
      }));
      return {
        name: skill.name,
        description: skill.description,
        version: skill.version,
        file,
        ...(skill.persona ? { persona: skill.persona } : {}),
        inputs: Object.entries(skill.inputs).map(([input, spec]) => ({ name: input, ...spec })),
        steps,
        tools: [...new Set(steps.flatMap((s) => (s.tool ? [s.tool] : [])))],
        outputs: Object.keys(skill.outputs ?? {}),
      };
    },

    lint: async (target?: string, options: { anyFile?: boolean } = {}): Promise<LintReport> => {
      const findings: LintFinding[] = [];
      const loaded: LoadedSkill[] = [];
      const fileFindings = (error: SkillFileError) => findings.push(...error.problems.map((p) => fileFinding(error.file, p)));
      if (!target) {
        // Every file is checked: a bad one is reported with its paths, the others are still linted.
        const library = readSkillLibrary(deps.config.skills_dirs);
        library.files.forEach(fileFindings);
        findings.push(...library.problems.map((p) => fileFinding('', p)));
        loaded.push(...library.skills.values());
      } else if (isFilePath(target) || existsSync(target)) {
        // A file named by an MCP client must be one of the skill folders' files; the CLI (the local user) may lint any file.
        try {
          loaded.push(loadSkillFile(resolve(target), options.anyFile ? undefined : [BUILTIN_SKILLS_DIR, ...deps.config.skills_dirs]));
        } catch (error) {
          if (error instanceof SkillFileError) fileFindings(error);
          else throw error;
        }
      } else {
        const library = readSkillLibrary(deps.config.skills_dirs);
        const found = library.skills.get(target);
        if (!found) {
          const broken = library.files.map((f) => f.file);
          throw new ToolError('not_found', `no skill "${target}"`, {
            hint: `known skills: ${[...library.skills.keys()].join(', ') || 'none'}${broken.length ? `; files that do not load (lint without a name shows why): ${broken.join(', ')}` : ''}`,
          });
        }
        loaded.push(found);
      }
      findings.push(...(await lintLoaded(loaded)));
      return { ok: findings.length === 0, skills: loaded.map((l) => l.skill.name), findings };
    },

    run: async (request, ctx) => {
      const { runSkill } = await import('./engine.js');
      if (request.resume) {
        const stored = await getRun(deps.memory, ctx.session.principal.tenant, request.resume);
        if (!stored) throw new ToolError('not_found', `no skill run ${request.resume}`, { hint: 'skill_runs lists recent runs' });
        const loaded = stored.run.file && existsSync(stored.run.file) && !request.name ? loadSkillFile(stored.run.file) : find(request.name ?? stored.run.skill);
        return runSkill(engine, ctx, { loaded, resume: { runId: request.resume, approve: request.approve ?? false, interrupted: request.interrupted } });
      }
      if (request.file) return runSkill(engine, ctx, { loaded: await planableFile(request.file, request.dry_run ?? false), inputs: request.inputs ?? {}, dryRun: true });
      const loaded = find(request.name ?? '');
      return runSkill(engine, ctx, { loaded, inputs: request.inputs ?? {}, dryRun: request.dry_run ?? false });
    },

    runs: async (query, tenant): Promise<RunsResult> => {
      const runs = (await listRuns(deps.memory, tenant, { ...(query.skill ? { skill: query.skill } : {}), limit: query.limit ?? 20 })).map(summary);
      if (!query.run_id) return { runs };
      const stored = await getRun(deps.memory, tenant, query.run_id);
      if (!stored) throw new ToolError('not_found', `no skill run ${query.run_id}`, { hint: 'call skill_runs without run_id to list recent runs' });
      return {
        runs,
        run: {
          summary: summary(stored.run),
          inputs: stored.run.inputs,
          outputs: stored.run.outputs,
          steps: stored.steps.map((row) => ({ ...stepResultOf(row), round: row.round, ts: row.ts })),
        },
      };
    },
  };
}

function fileFinding(file: string, problem: string): LintFinding {
  const trimmed = problem.trim();
  const match = /^([^:\s]+(?:\[\d+\])?(?:\.[^:\s]+)*): (.*)$/s.exec(trimmed);
  return { skill: '', file, path: match && file ? match[1]! : '', message: match && file ? match[2]! : trimmed };
}

function runSummary(run: RunRecord) {
  return {
    run_id: run.id,
    skill: run.skill,
    version: run.version,
    status: run.status,
    dry_run: run.dry_run,
    started_at: run.started_at,
    updated_at: run.updated_at,
    duration_ms: run.duration_ms,
    resumes: run.resumes,
    started_by: run.started_by,
    ...(run.error ? { error: run.error } : {}),
  };
}

