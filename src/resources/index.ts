export { listResources, listResourceTemplates, parseResourceUri, readResource, type ResourceEntry, type ResourceTemplateEntry, type ResourceText } from './catalog.js';
export { complete, COMPLETION_MAX, prefixMatches, tenantEnvironments, type Completion, type CompletionRef } from './completions.js';
export { resourceNotFound, type ContentDeps } from './deps.js';
export { AUDIT_LIMIT, PAGE_SIZE, RECENT_LIMIT, RESOURCE_KIND_NAMES, RESOURCE_KINDS, type ResourceKind } from './kinds.js';
export { checkPromptArguments, getPrompt, listPrompts, type PromptEntry, type PromptText } from './prompts.js';
export { RESOURCE_SCHEME, resourceUris } from './uris.js';
