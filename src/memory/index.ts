export { describeDatabaseUrl, isLockError, MemoryDb, MemoryOpenError, nowIso, type Db, type OpenMemoryOptions } from './store.js';
export type { Backend } from './dialect.js';
export { MIGRATIONS, type Migration } from './migrations.js';
export { addSessionLog, appendItem, ItemTooLargeError, MAX_LISTS_PER_READ, readLists, recentSessionLog, type ListItem, type ListPage, type ReadListsResult, type SessionLogEntry, type Writer } from './journal.js';
export { indexLegacyFixes, countMatches, findKnownIssues, learnFix, patternIndex, replaceKnownIssues, searchTerms, type IssueMatch, type KnownIssue, type KnownIssueQuery, type LearnedFix, type Teacher } from './fixes.js';
export { findKnowledgeFile, selectSection, syncKnownIssues } from './knowledge.js';
export { abandonRun, addRunStep, childRun, claimRun, createRun, finishRun, finishStepCalls, getRun, listRuns, openStepCall, renewLease, startStepCall, type NewRun, type RunRecord, type RunStepRecord, type StepCall } from './runs.js';
export { savedPersona, savePersona } from './personas.js';
export { effectiveStatus, markOwnerLive, newOwner, ownerAlive } from './lease.js';
