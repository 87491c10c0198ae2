import { createRequire } from 'node:module';

type CryptoModule = typeof import('node:crypto');

let crypto: CryptoModule | undefined;

/**
 * node:crypto, loaded on first use: the modules of the start path need it only to sign, compare
 * or draw random bytes later, and importing it cost every start about 4 ms.
 */
export function cryptoModule(): CryptoModule {
  crypto ??= createRequire(import.meta.url)('node:crypto') as CryptoModule;
  return crypto;
}
