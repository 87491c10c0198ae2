import type { ServiceMap } from '../tools/registry.js';
import type { SkillService } from '../tools/skills.js';
import type { SkillServiceDeps } from './service.js';

/**
 * Install the skill engine into a runtime's services (the runtime calls this at creation). The
 * service's module (skill schemas, loader, run records) is imported on its first use, so a server
 * answers its first requests without it: it cost about 13 ms of every start.
 */
export function installSkillService(runtime: SkillServiceDeps & { services: ServiceMap }): void {
  let loading: Promise<SkillService> | undefined;
  const service = () => (loading ??= import('./service.js').then(({ createSkillService }) => createSkillService(runtime)));
  runtime.services.skills = {
    list: async () => (await service()).list(),
    describe: async (name) => (await service()).describe(name),
    lint: async (target, options) => (await service()).lint(target, options),
    run: async (request, ctx) => (await service()).run(request, ctx),
    runs: async (query, tenant) => (await service()).runs(query, tenant),
    abandon: async (runId, tenant, reason) => (await service()).abandon(runId, tenant, reason),
  };
}
