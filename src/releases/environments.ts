import type { Config, EnvironmentConfig } from '../config.js';
import { ToolError } from '../errors.js';

/** The configured environment of that name, or an invalid_input error listing the names. */
export function environmentNamed(config: Config, name: string): EnvironmentConfig {
  const env = config.environments.find((e) => e.name === name);
  if (!env) {
    throw new ToolError('invalid_input', `unknown environment "${name}"`, {
      hint: `configured environments, in order: ${config.environments.map((e) => e.name).join(' -> ')}`,
    });
  }
  return env;
}

/**
 * The database of an environment for a tenant: `databases[tenant]`, else `database` for the
 * default tenant. A tenant with neither has no database there (a config error), never another
 * tenant's file.
 */
export function databaseOf(config: Config, env: EnvironmentConfig, tenant: string): string {
  const own = env.databases[tenant] ?? (tenant === config.releases.default_tenant ? env.database : undefined);
  if (!own) {
    throw new ToolError('config', `environment ${env.name} has no database for tenant "${tenant}"`, {
      hint: `set environments[].databases.${tenant} for ${env.name} in config.json (a file of its own)`,
    });
  }
  return own;
}

/**
 * A release moves to the environment right after its source. Skipping is allowed only for a
 * release marked hotfix on a configured hotfix path (releases.hotfix_paths).
 */
export function checkPromotionPath(config: Config, from: string, to: string, hotfix: boolean): void {
  const names = config.environments.map((e) => e.name);
  environmentNamed(config, from);
  environmentNamed(config, to);
  const fromIndex = names.indexOf(from);
  const toIndex = names.indexOf(to);
  if (toIndex === fromIndex + 1) return;
  const onHotfixPath = config.releases.hotfix_paths.some(([a, b]) => a === from && b === to);
  if (hotfix && onHotfixPath) return;
  const next = names[fromIndex + 1];
  const reason = toIndex <= fromIndex ? `${to} does not come after ${from}` : `${from} -> ${to} skips ${names.slice(fromIndex + 1, toIndex).join(', ')}`;
  throw new ToolError('precondition', `a release from ${from} can only go to ${next ?? '(nothing: it is the last environment)'}: ${reason}`, {
    hint: onHotfixPath
      ? 'this is a configured hotfix path: set hotfix: true to take it'
      : `order is ${names.join(' -> ')}; hotfix paths: ${config.releases.hotfix_paths.map(([a, b]) => `${a}->${b}`).join(', ') || 'none'}`,
  });
}
