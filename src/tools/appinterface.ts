import { z } from 'zod';
import { checkChangedDeployFiles, findTarget, readRepoFile, releaseBranchName, runValidateCommand, setTargetRef, todayUtc, writeRepoFile } from '../appinterface/index.js';
import { ToolError } from '../errors.js';
import { listBranches, openRepo, resolveRepo, safeRefName } from '../git/index.js';
import { notOption } from './fields.js';
import { defineTool, type ToolContext } from './registry.js';

/** The checkout to use: `repo` as given, else config app_interface.repo, which must then be configured. */
function appInterfaceRepo(ctx: ToolContext, repo: string | undefined): string {
  if (repo) return repo;
  const name = ctx.config.app_interface.repo;
  if (!ctx.config.repositories[name]) {
    throw new ToolError('config', `no app-interface checkout is configured: repositories.${name} is missing`, {
      hint: `add repositories.${name}.path to config.json (or set app_interface.repo to the name of your checkout), or pass repo`,
    });
  }
  return name;
}

/** A file as committed at a revision (`git show rev:file`), so a fetched upstream can be read without touching the work tree. */
async function readFileAtRev(ctx: ToolContext, repo: string, rev: string, file: string): Promise<string> {
  safeRefName(rev, 'rev');
  if (file.startsWith('/') || file.split('/').includes('..')) throw new ToolError('invalid_input', `file must be a path relative to the repository: ${file}`);
  const git = await openRepo(ctx.config, repo, { signal: ctx.signal });
  const known = await git.probe(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
  if (!known.ok) throw new ToolError('not_found', `unknown revision ${rev} in ${git.path}`, { hint: 'fetch the remote first (git_fetch)' });
  const shown = await git.probe(['show', `${rev}:${file}`]);
  if (!shown.ok) throw new ToolError('not_found', `no file ${file} at ${rev}`, { hint: 'check app_interface.deploy_file' });
  return shown.stdout;
}

const repo = notOption('repo').optional().describe('app-interface checkout, a configured name or a path (default: config app_interface.repo)');
const file = notOption('file').optional().describe('Deploy file relative to the repository (default: config app_interface.deploy_file)');
const namespace = z
  .string()
  .trim()
  .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, 'expected a namespace name such as tower-analytics-prod')
  .describe('Target namespace: the target whose namespace $ref ends in <namespace>.yml');
const resourceTemplate = z.string().trim().min(1).optional().describe('Only look in this resource template (when a namespace has targets in several)');
const sha = z.string().trim().regex(/^[0-9a-f]{40}$/, 'expected a full 40-character lowercase hex SHA');

export const appinterfaceGetRef = defineTool({
  name: 'appinterface_get_ref',
  family: 'appinterface',
  title: 'Read a deploy ref',
  description: 'The `ref` of the deploy target for a namespace in an app-interface saas file (deploy-clowder.yml), with its resource template and line.',
  input: z.object({
    repo,
    file,
    namespace,
    resource_template: resourceTemplate,
    rev: notOption('rev').optional().describe('Read the file as committed at this revision (e.g. upstream/master, after git_fetch) instead of the working tree'),
  }),
  output: z.object({
    file: z.string(),
    namespace: z.string(),
    ref: z.string(),
    is_sha: z.boolean(),
    resource_template: z.string(),
    namespace_ref: z.string(),
    target_path: z.string().describe('e.g. resourceTemplates[0].targets[2]'),
    line: z.number().int(),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async (args, ctx) => {
    const repoName = appInterfaceRepo(ctx, args.repo);
    const name = args.file ?? ctx.config.app_interface.deploy_file;
    const text = args.rev ? await readFileAtRev(ctx, repoName, args.rev, name) : readRepoFile(resolveRepo(ctx.config, repoName).path, name);
    const target = findTarget(text, name, args.namespace, args.resource_template);
    const ref = target.ref!;
    return { file: name, namespace: args.namespace, ref, is_sha: /^[0-9a-f]{40}$/.test(ref), resource_template: target.resource_template, namespace_ref: target.namespace_ref, target_path: target.path, line: target.line! };
  },
  summarize: (r) => `${r.namespace} (${r.resource_template}) is at ${r.ref}`,
});

export const appinterfaceSetRef = defineTool({
  name: 'appinterface_set_ref',
  family: 'appinterface',
  title: 'Set a deploy ref',
  description:
    'Set the `ref` of the deploy target for a namespace to a full SHA, keeping comments and formatting. Refuses when no or several targets match, or expect_current differs.',
  input: z.object({
    repo,
    file,
    namespace,
    ref: sha.describe('The full commit SHA to deploy'),
    expect_current: z.string().trim().min(1).optional().describe('The ref you expect to replace; the edit is refused when the file says otherwise'),
    resource_template: resourceTemplate,
  }),
  output: z.object({
    file: z.string(),
    namespace: z.string(),
    previous_ref: z.string(),
    ref: z.string(),
    resource_template: z.string(),
    changed: z.boolean().describe('false when the target already had this ref (nothing written)'),
    line: z.number().int(),
    diff: z.string().nullable().describe('The changed line: "-old" and "+new"'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: (args, ctx) => {
    const { path } = resolveRepo(ctx.config, appInterfaceRepo(ctx, args.repo));
    const name = args.file ?? ctx.config.app_interface.deploy_file;
    const edit = setTargetRef(readRepoFile(path, name), name, args.namespace, args.ref, { expectCurrent: args.expect_current, resourceTemplate: args.resource_template });
    if (edit.changed) writeRepoFile(path, name, edit.text);
    return {
      file: name,
      namespace: args.namespace,
      previous_ref: edit.previous,
      ref: args.ref,
      resource_template: edit.target.resource_template,
      changed: edit.changed,
      line: edit.target.line!,
      diff: edit.diff,
    };
  },
  summarize: (r) => (r.changed ? `${r.namespace}: ${r.previous_ref} -> ${r.ref} (${r.file}:${r.line})` : `${r.namespace} already at ${r.ref}; nothing written`),
});

export const appinterfaceValidate = defineTool({
  name: 'appinterface_validate',
  family: 'appinterface',
  title: 'Validate app-interface changes',
  description:
    'Run config app_interface.validate_command; without one, check the YAML files changed on the branch (they parse, production refs are 40-hex SHAs, $ref files exist). Fails (precondition) when invalid.',
  input: z.object({ repo }),
  output: z.object({
    mode: z.enum(['command', 'checks']),
    ok: z.boolean(),
    command: z.array(z.string()).optional(),
    exit_code: z.number().int().optional(),
    duration_ms: z.number().int().optional(),
    stdout_tail: z.string().optional(),
    stderr_tail: z.string().optional(),
    base: z.string().optional().describe('Branch the changes were compared with'),
    files: z.array(z.string()).optional().describe('Changed YAML files checked'),
    checks: z.array(z.object({ file: z.string(), check: z.string(), ok: z.boolean(), message: z.string() })).optional(),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async (args, ctx) => {
    const ai = ctx.config.app_interface;
    const name = appInterfaceRepo(ctx, args.repo);
    if (ai.validate_command) {
      const { path } = resolveRepo(ctx.config, name);
      return { ok: true, ...(await runValidateCommand(ai.validate_command, path, ai.validate_timeout_ms, ctx.signal)) };
    }
    const result = await checkChangedDeployFiles(ctx.config, await openRepo(ctx.config, name, { signal: ctx.signal }), ctx.signal);
    const problems = result.checks.filter((c) => !c.ok);
    if (problems.length) {
      throw new ToolError('precondition', `app-interface validation found ${problems.length} problem(s): ${problems.map((p) => `${p.file}: ${p.message}`).join('; ')}`, {
        hint: 'fix these files, commit, and validate again',
        details: { problems, base: result.base, files: result.files },
      });
    }
    return { ok: true, ...result };
  },
  summarize: (r) => (r.mode === 'command' ? `${r.command?.join(' ')} passed in ${r.duration_ms} ms` : `${r.files?.length ?? 0} changed file(s) checked against ${r.base}: ${r.checks?.length ?? 0} checks passed`),
});

export const releaseBranchNameTool = defineTool({
  name: 'release_branch_name',
  family: 'appinterface',
  title: 'Name the release branch',
  description: 'The release branch name for a date: <prefix><date>, or -v2, -v3... when it already exists locally or on the remote (fetch first).',
  input: z.object({
    repo,
    date: z.string().trim().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD').optional().describe('Default: today (UTC)'),
    prefix: z.string().trim().min(1).max(100).regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'expected a branch name prefix').optional().describe('Default: config app_interface.branch_prefix'),
  }),
  output: z.object({ name: z.string(), base: z.string(), version: z.number().int(), existing: z.array(z.string()) }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  handler: async (args, ctx) => {
    const git = await openRepo(ctx.config, appInterfaceRepo(ctx, args.repo), { signal: ctx.signal });
    const prefix = args.prefix ?? ctx.config.app_interface.branch_prefix;
    return releaseBranchName(await listBranches(git), git.repo.remote, prefix, args.date ?? todayUtc());
  },
  summarize: (r) => `${r.name}${r.existing.length ? ` (existing: ${r.existing.join(', ')})` : ''}`,
});

export const appinterfaceTools = [appinterfaceGetRef, appinterfaceSetRef, appinterfaceValidate, releaseBranchNameTool] as const;
