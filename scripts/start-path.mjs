// Injected into every entry of the CLI bundle (scripts/bundle.mjs): the lazily imported modules
// then share the start path's modules through one chunk, which a server loads at start as one
// file instead of a dozen small ones (each costs the module loader and the garbage collector).
import '../src/cli/common.ts';
