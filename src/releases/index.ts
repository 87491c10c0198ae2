export { canonicalJson, bundleSha256, sha256Hex } from './bundle.js';
export { checkPromotionPath, databaseOf, environmentNamed } from './environments.js';
export { applyFlags, currentFlags, restoreFlags, type FlagValue, type PreviousFlags } from './flags.js';
export { checkHealthUrl, type HealthCheckResult } from './health-check.js';
export {
  getRelease,
  latestRelease,
  listEvents,
  listReleases,
  recordEvent,
  updateEventDetails,
  RELEASE_EVENTS,
  RELEASE_STATUSES,
  type ReleaseEvent,
  type ReleaseEventName,
  type ReleaseManifest,
  type ReleaseStatus,
} from './ledger.js';
export { COLUMN_TYPES, migrationOpSchema, type MigrationOp } from './migration-ops.js';
export { planMigration, type MigrationPlan, type SchemaView } from './migrations-plan.js';
export { SAFETY_RULES, type Finding, type SafetyRule } from './migration-safety.js';
export { planSha256, SqliteTarget, type TargetDatabase } from './target.js';
export { PostgresTarget } from './target-postgres.js';
export { backupPathFor } from './open-target.js';
export { COMMITTED_LEDGER_WAIT_MS, prepareRelease, promoteRelease, PromotionCrash, readRelease, requireAdmin, rollbackRelease, type Bundle, type LedgerDeps, type PromotionCrashPoint, type PromotionSkillRunner } from './service.js';
export { reconcilePromotion, reconcilePromotions, type Reconciled } from './promotion-journal.js';
export { TargetDb, type PlannedMigration } from './target-db.js';
