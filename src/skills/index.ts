export { createSkillService, type SkillServiceDeps } from './service.js';
export { installSkillService } from './install.js';
export { runSkill, type EngineDeps, type RunOptions } from './engine.js';
export { ExpressionSandbox, ExpressionError, loadQuickJS, HELPER_NAMES, type SandboxLimits } from './expressions.js';
export { BUILTIN_SKILLS_DIR, loadSkillFile, loadSkills, SkillFileError, SkillLoadError, type LoadedSkill } from './loader.js';
export { lintSkill } from './lint.js';
export { parseDuration, skillSchema, stepKind, type Skill, type Step, type StepKind } from './schema.js';
export { renderRunReport } from './report.js';
