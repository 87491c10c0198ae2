// `node --import ./scripts/conformance-node20-register.mjs …`: installs the hook that lets the
// 2026-07-28 conformance suite (0.2.0-alpha, written for Node 22) load on Node 20. See the hook.
import { register } from 'node:module';

register(new URL('./conformance-node20-hook.mjs', import.meta.url));
