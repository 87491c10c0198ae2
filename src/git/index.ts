export { safeArg, safeRange, safeRefName } from './args.js';
export { gitExitOf, GitRunner, openRepo, type GitExit } from './client.js';
export { buildCommitMessage, issueKeyFromBranch } from './commit-message.js';
export { classifyGitError, scrubUrls } from './errors.js';
export { globToRegExp, listBranches, lookupCommit, readDiff, readLog } from './history.js';
export { fetchRemote, pushBranch, pushTag, requireRemote } from './remote.js';
export { resolveRepo, type ResolvedRepo } from './repo-resolve.js';
export { currentBranch, readStatus, resolveRef } from './status.js';
export { checkout, commit, rebase, stage, tag } from './write.js';
