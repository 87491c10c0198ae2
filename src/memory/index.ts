export { MemoryDb, MemoryOpenError, nowIso, type Db, type OpenMemoryOptions } from './store.js';
export { MIGRATIONS, type Migration } from './migrations.js';
export { addSessionLog, appendItem, readLists, recentSessionLog, type ListItem, type SessionLogEntry } from './journal.js';
export { countMatches, findKnownIssues, learnFix, replaceKnownIssues, searchTerms, type IssueMatch, type KnownIssue, type LearnedFix } from './fixes.js';
export { findKnowledgeFile, selectSection, syncKnownIssues } from './knowledge.js';
export { addRunStep, claimRun, createRun, finishRun, getRun, listRuns, type RunRecord, type RunStepRecord } from './runs.js';
