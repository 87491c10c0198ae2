import { z } from 'zod';

/**
 * A ref, path or name that goes to git as an argument: never one that starts with "-", which
 * git would read as an option (`--upload-pack=...`).
 */
export const notOption = (what: string) =>
  z
    .string()
    .trim()
    .min(1, `expected a non-empty ${what}`)
    .max(1000)
    .regex(/^[^-]/, `${what} must not start with "-"`);
