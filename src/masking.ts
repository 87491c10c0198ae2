/**
 * Masking of secrets in text bound for results, logs and memory: configured secret values (whole,
 * or a piece of at least PARTIAL_MIN characters where a body was cut through one), and credentials
 * recognisable by their shape whoever owns them: `Basic <base64>` and Slack webhook paths.
 */

export const MASK = '[redacted]';

/**
 * A cut secret is masked when at least this much of it is left, for secrets of at least
 * PARTIAL_SECRET_MIN characters: shorter pieces would also match ordinary words ("operator" of
 * "operator-token-…").
 */
const PARTIAL_MIN = 12;
const PARTIAL_SECRET_MIN = 16;

const SHAPES: ReadonlyArray<[RegExp, string]> = [
  // hooks.slack.com/services/T.../B.../secret: the path is the credential.
  [/(hooks\.slack(?:-gov)?\.com\/services\/)[A-Za-z0-9_/-]+/gi, `$1${MASK}`],
  // https://user:password@host: the password part.
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi, `$1${MASK}@`],
];

/**
 * Authorization: Basic base64(user:password) is decodable, so always a secret. A word after "Basic"
 * ("Basic checks") is left alone: a credential has a digit, + or / or = in it, or decodes to a
 * text with a colon (user:pass).
 */
const BASIC = /\b([Bb]asic)(\s+)([A-Za-z0-9+/_-]{8,}={0,2})/g;

function maskBasic(text: string): string {
  return text.replace(BASIC, (match, word: string, space: string, token: string) => {
    const credential = /[0-9+/=]/.test(token) || Buffer.from(token, 'base64').toString('latin1').includes(':');
    return credential ? `${word}${space}${MASK}` : match;
  });
}

/** Pieces of `secret` left where text was cut: a prefix that stops before the secret's end, or a suffix that starts after its beginning. */
function maskCut(text: string, secret: string): string {
  // A URL secret (a webhook) starts with a scheme and host that are not secret: a piece of it would mask every URL of that host.
  if (secret.length < PARTIAL_SECRET_MIN || secret.includes('://')) return text;
  let out = text;
  const head = secret.slice(0, PARTIAL_MIN);
  for (let i = out.indexOf(head); i !== -1; i = out.indexOf(head, i + MASK.length)) {
    let n = PARTIAL_MIN;
    while (n < secret.length && out[i + n] === secret[n]) n++;
    out = out.slice(0, i) + MASK + out.slice(i + n);
  }
  const tail = secret.slice(-PARTIAL_MIN);
  for (let end = out.lastIndexOf(tail); end !== -1; end = end === 0 ? -1 : out.lastIndexOf(tail, end - 1)) {
    let n = PARTIAL_MIN;
    const start = end + PARTIAL_MIN;
    while (n < secret.length && start - n - 1 >= 0 && out[start - n - 1] === secret[secret.length - n - 1]) n++;
    out = out.slice(0, start - n) + MASK + out.slice(start);
    end = start - n;
  }
  return out;
}

/**
 * Text none of SHAPES or BASIC can match lacks all of these (a superset of what they need), so
 * one test spares three replaces on the common string: result values are mostly plain words.
 */
const MAY_HAVE_SHAPE = /:\/\/|hooks\.slack|basic/i;

/** Longest first: a secret that contains another is masked whole. */
const longestFirst = (secrets: readonly string[]) => [...secrets].sort((a, b) => b.length - a.length);

function redactSorted(text: string, sorted: readonly string[], secrets: readonly string[]): string {
  let out = text;
  for (const secret of sorted) if (secret) out = out.split(secret).join(MASK);
  for (const secret of secrets) if (secret) out = maskCut(out, secret);
  if (!MAY_HAVE_SHAPE.test(out)) return out;
  for (const [pattern, replacement] of SHAPES) out = out.replace(pattern, replacement);
  return maskBasic(out);
}

/** Replace every secret value, any cut piece of one, and every credential-shaped string with a marker. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  return redactSorted(text, longestFirst(secrets), secrets);
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * One pattern that every string redactSorted could change matches: MAY_HAVE_SHAPE, every secret
 * too short to be cut whole, and the first and last PARTIAL_MIN characters of every other one (in
 * any whole or cut occurrence, one of these is present). Case-blind, so it may match more, never less.
 */
function changeablePattern(secrets: readonly string[]): RegExp {
  const pieces = secrets.filter(Boolean).flatMap((secret) => (secret.length < PARTIAL_SECRET_MIN || secret.includes('://') ? [secret] : [secret.slice(0, PARTIAL_MIN), secret.slice(-PARTIAL_MIN)]));
  return new RegExp([MAY_HAVE_SHAPE.source, ...pieces.map(escapeRegExp)].join('|'), 'i');
}

/**
 * The pattern of each secret list, rebuilt when the list changed (a runtime's list grows while it
 * runs): checked against a copy, element by element, which costs less than the pattern.
 */
const patterns = new WeakMap<readonly string[], { seen: readonly string[]; pattern: RegExp }>();

function patternFor(secrets: readonly string[]): RegExp {
  const cached = patterns.get(secrets);
  if (cached && cached.seen.length === secrets.length && cached.seen.every((secret, i) => secret === secrets[i])) return cached.pattern;
  const pattern = changeablePattern(secrets);
  patterns.set(secrets, { seen: [...secrets], pattern });
  return pattern;
}

/**
 * Whether no string of `value` (keys included) can be changed by redactSorted: one test of each
 * string against one pattern, with nothing copied, spares the walk that rebuilds the value.
 */
function surelyClean(value: unknown, pattern: RegExp): boolean {
  if (typeof value === 'string') return !pattern.test(value);
  if (!value || typeof value !== 'object') return true;
  // Plain loops: this runs on every result, and callbacks or entry pairs would allocate per item.
  if (Array.isArray(value)) {
    for (const item of value) if (!surelyClean(item, pattern)) return false;
    return true;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) if (pattern.test(key) || !surelyClean(record[key], pattern)) return false;
  return true;
}

/** Deep redaction for structured values bound for output or memory (keys included). */
export function redactValue<T>(value: T, secrets: readonly string[]): T {
  // Most results hold nothing to mask: one check of their strings spares the walk and its copy.
  if (surelyClean(value, patternFor(secrets))) return value;
  // Sorted once for the whole value, not once per string in it.
  const sorted = longestFirst(secrets);
  const walk = (item: unknown): unknown => {
    if (typeof item === 'string') return redactSorted(item, sorted, secrets);
    if (Array.isArray(item)) return item.map(walk);
    if (item && typeof item === 'object') return Object.fromEntries(Object.entries(item).map(([k, v]) => [redactSorted(k, sorted, secrets), walk(v)]));
    return item;
  };
  return walk(value) as T;
}
