export { findTarget, listTargets, parseDeployFile, setTargetRef, SHA40, targetsNamespace, type DeployTarget, type RefEdit } from './deploy-file.js';
export { readRepoFile, repoFile, writeRepoFile } from './files.js';
export { releaseBranchName, todayUtc, type ReleaseBranchName } from './release-branch.js';
export { checkChangedDeployFiles, normalizeUrl, runValidateCommand, type Check, type CommandValidation, type FileValidation } from './validate.js';
