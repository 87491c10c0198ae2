export { personaSchema, type Persona } from './schema.js';
export { BUILTIN_PERSONAS_DIR, checkPersonas, loadPersonas, unknownPersonaMessage } from './loader.js';
export { isResourceKindVisible, isToolVisible, selectTools, type ToolFilter } from './select.js';
