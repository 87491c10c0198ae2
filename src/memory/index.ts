export { MemoryDb, nowIso, type Db, type OpenMemoryOptions } from './store.js';
export { MIGRATIONS, type Migration } from './migrations.js';
export { addSessionLog, appendItem, readLists, recentSessionLog, type ListItem, type SessionLogEntry } from './journal.js';
export { adoptUntenantedFixes, countMatches, findKnownIssues, learnFix, patternIndex, replaceKnownIssues, searchTerms, type IssueMatch, type KnownIssue, type KnownIssueQuery, type LearnedFix, type Teacher } from './fixes.js';
export { findKnowledgeFile, selectSection, syncKnownIssues } from './knowledge.js';
export { addRunStep, claimRun, createRun, finishRun, getRun, listRuns, type RunRecord, type RunStepRecord } from './runs.js';
