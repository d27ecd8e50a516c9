import { createHash, randomInt, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { posix } from 'node:path';
import { goQuote } from '../../core/go-string.ts';
import { compileGoRegexp } from '../dynamic/middlewares.ts';
import { goString, type TemplateFunction, truthy } from './exec.ts';
import { emptyHostTable, extraFunctions, type HostTable } from './sprig-extra.ts';

/*
 * The functions a Traefik file-provider template can call: text/template's builtins, the sprig
 * functions real files use (Traefik passes sprig.TxtFuncMap()), and Traefik's two additions,
 * `normalize` and `split` (Go's strings.Split, which replaces sprig's). A function not listed
 * here is refused when the template is parsed, by name.
 */

const str = (v: unknown): string => (typeof v === 'string' ? v : goString(v));
const num = (v: unknown): number => {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN;
  if (Number.isNaN(n)) throw new Error(`${goString(v)} is not a number`);
  return n;
};
const list = (v: unknown): unknown[] => {
  if (Array.isArray(v)) return v;
  if (v === null || v === undefined) return [];
  throw new Error(`${goString(v)} is not a list`);
};

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new Error(`incompatible types for comparison: ${goString(a)} and ${goString(b)}`);
}

function printf(format: string, ...args: unknown[]): string {
  let i = 0;
  return format.replace(/%([-+ #0]*\d*(?:\.\d+)?)([vsdqfxXtT%])/g, (_m, flags: string, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    let out: string;
    switch (verb) {
      case 'd':
        out = String(Math.trunc(num(a)));
        break;
      case 'f': {
        const p = /\.(\d+)/.exec(flags);
        out = num(a).toFixed(p === null ? 6 : Number(p[1]));
        break;
      }
      case 'q':
        out = goQuote(str(a));
        break;
      case 'x':
      case 'X':
        out = typeof a === 'number' ? a.toString(16) : Buffer.from(str(a)).toString('hex');
        if (verb === 'X') out = out.toUpperCase();
        break;
      case 't':
        out = String(Boolean(a));
        break;
      default:
        out = a === undefined ? '%!v(MISSING)' : goString(a);
    }
    const width = /^[-+ #0]*(\d+)/.exec(flags);
    if (width !== null)
      out = flags.includes('-') ? out.padEnd(Number(width[1])) : out.padStart(Number(width[1]));
    return out;
  });
}

/** Go's fmt.Sprint: a space between operands when neither is a string. */
function sprint(args: readonly unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += goString(a);
  });
  return out;
}

function regexp(src: unknown): RegExp {
  const r = compileGoRegexp(str(src));
  if ('error' in r) throw new Error(r.error);
  return r.regexp;
}

/** Go's encoding/json Marshal: map keys sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped. */
function goJson(v: unknown, indent = ''): string {
  const sorted = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sorted);
    if (x !== null && typeof x === 'object')
      return Object.fromEntries(
        Object.keys(x)
          .sort()
          .map((k) => [k, sorted((x as Record<string, unknown>)[k])]),
      );
    return x;
  };
  return (JSON.stringify(sorted(v), null, indent) ?? 'null').replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Go's path.Clean (sprig's `clean`; `base`, `dir` and `ext` read it too). */
function goClean(p: string): string {
  if (p === '') return '.';
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** sprig's rand* functions: `n` characters of `set`, from a cryptographic source. */
function randomOf(set: string, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += set[randomInt(set.length)];
  return out;
}
const ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';

/** Go's adler32 checksum (sprig's adler32sum), as a decimal string. */
function adler32(s: string): string {
  let a = 1;
  let b = 0;
  for (const byte of Buffer.from(s)) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return String(((b << 16) | a) >>> 0);
}

/** Go's regexp.QuoteMeta. */
const quoteMeta = (s: string): string => s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');

/** text/template's html: HTMLEscapeString of the printed arguments. */
function htmlEscape(s: string): string {
  return s.replace(/[<>&'"\0]/g, (c) =>
    c === '<'
      ? '&lt;'
      : c === '>'
        ? '&gt;'
        : c === '&'
          ? '&amp;'
          : c === "'"
            ? '&#39;'
            : c === '"'
              ? '&#34;'
              : '\uFFFD',
  );
}

/** text/template's js: JSEscapeString of the printed arguments. */
function jsEscape(s: string): string {
  let out = '';
  for (const c of s) {
    const code = c.codePointAt(0)!;
    if (c === '\\') out += '\\\\';
    else if (c === "'") out += "\\'";
    else if (c === '"') out += '\\"';
    else if (c === '<' || c === '>' || c === '&' || c === '=' || code < 0x20)
      out += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += c;
  }
  return out;
}

type Bcrypt = { genSaltSync(rounds: number): string; hashSync(password: string, salt: string): string };
let bcryptModule: Bcrypt | undefined;

/**
 * sprig's bcrypt: golang.org/x/crypto/bcrypt GenerateFromPassword at DefaultCost (10), written
 * `$2a$` as Go writes it (bcryptjs says `$2b$`, the same hash below 255 bytes); over 72 bytes Go
 * refuses, and sprig returns the error as the text. bcryptjs is loaded on first use only.
 */
function goBcrypt(password: string): string {
  if (Buffer.byteLength(password) > 72)
    return 'failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes';
  bcryptModule ??= createRequire(import.meta.url)('bcryptjs') as Bcrypt;
  const salt = bcryptModule.genSaltSync(10).replace(/^\$2b\$/, '$2a$');
  return bcryptModule.hashSync(password, salt);
}

/** A regexp with the global flag (sprig's regexFindAll and regexSplit). */
const globalRegexp = (src: unknown): RegExp => new RegExp(regexp(src), 'g');

/**
 * `fileProvider`: the file provider's map, where Traefik replaces sprig's `split` by Go's
 * strings.Split (pkg/provider/file/file.go CreateConfiguration); the label providers' defaultRule
 * keeps sprig's (pkg/provider/configuration.go MakeDefaultRuleTemplate adds `normalize` only).
 */
export function templateFunctions(
  env: NodeJS.ProcessEnv,
  fileProvider = true,
  hosts: HostTable = emptyHostTable(),
): Map<string, TemplateFunction> {
  const f: Record<string, TemplateFunction> = {
    // text/template builtins
    and: (...a) => a.find((v) => !truthy(v)) ?? a.at(-1),
    or: (...a) => a.find((v) => truthy(v)) ?? a.at(-1),
    not: (a) => !truthy(a),
    len: (a) =>
      typeof a === 'string'
        ? Buffer.byteLength(a)
        : Array.isArray(a)
          ? a.length
          : Object.keys(a ?? {}).length,
    index: (a, ...keys) =>
      keys.reduce(
        (v: unknown, k) => (v as Record<string | number, unknown> | null)?.[k as string | number],
        a,
      ),
    print: (...a) => sprint(a),
    println: (...a) => `${a.map(goString).join(' ')}\n`,
    printf: (fmt, ...a) => printf(str(fmt), ...a),
    eq: (a, ...b) => b.some((x) => x === a),
    ne: (a, b) => a !== b,
    lt: (a, b) => compare(a, b) < 0,
    le: (a, b) => compare(a, b) <= 0,
    gt: (a, b) => compare(a, b) > 0,
    ge: (a, b) => compare(a, b) >= 0,
    urlquery: (...a) => encodeURIComponent(sprint(a)),
    // No value of a file-provider template is a function (its data is nil): Go's call refuses.
    call: (fn) => {
      if (fn === null || fn === undefined) throw new Error('call of nil');
      throw new Error(`non-function of type ${typeof fn === 'string' ? 'string' : typeof fn}`);
    },
    html: (...a) => htmlEscape(sprint(a)),
    js: (...a) => jsEscape(sprint(a)),
    // Traefik's own
    normalize: (s) =>
      str(s)
        .replace(/[^A-Za-z0-9]+/g, '-')
        .replace(/^-+|-+$/g, ''),
    split: fileProvider
      ? (s, sep) => str(s).split(str(sep))
      : // sprig's split: `split sep s`, a dict of _0, _1…
        (sep, s) =>
          Object.fromEntries(
            str(s)
              .split(str(sep))
              .map((p, i) => [`_${i}`, p]),
          ),
    // sprig: environment and defaults
    env: (name) => env[str(name)] ?? '',
    expandenv: (s) => str(s).replace(/\$(\w+)|\$\{(\w+)\}/g, (_m, a, b) => env[(a ?? b) as string] ?? ''),
    default: (d, ...given) => (given.length === 0 || !truthy(given[0]) ? d : given[0]),
    empty: (v) => !truthy(v),
    coalesce: (...a) => a.find((v) => truthy(v)) ?? null,
    ternary: (yes, no, cond) => (truthy(cond) ? yes : no),
    // sprig: strings
    quote: (...a) =>
      a
        .filter((v) => v !== null && v !== undefined)
        .map((v) => goQuote(str(v)))
        .join(' '),
    squote: (...a) =>
      a
        .filter((v) => v !== null && v !== undefined)
        .map((v) => `'${str(v)}'`)
        .join(' '),
    upper: (s) => str(s).toUpperCase(),
    lower: (s) => str(s).toLowerCase(),
    title: (s) => str(s).replace(/\b\p{L}/gu, (c) => c.toUpperCase()),
    trim: (s) => str(s).trim(),
    trimAll: (cut, s) => {
      const set = new Set(str(cut));
      let t = str(s);
      while (t !== '' && set.has(t[0]!)) t = t.slice(1);
      while (t !== '' && set.has(t.at(-1)!)) t = t.slice(0, -1);
      return t;
    },
    trimPrefix: (p, s) => (str(s).startsWith(str(p)) ? str(s).slice(str(p).length) : str(s)),
    trimSuffix: (p, s) =>
      str(p) !== '' && str(s).endsWith(str(p)) ? str(s).slice(0, -str(p).length) : str(s),
    replace: (from, to, s) => str(s).split(str(from)).join(str(to)),
    contains: (sub, s) => str(s).includes(str(sub)),
    hasPrefix: (p, s) => str(s).startsWith(str(p)),
    hasSuffix: (p, s) => str(s).endsWith(str(p)),
    repeat: (n, s) => str(s).repeat(num(n)),
    substr: (a, b, s) => str(s).slice(num(a), num(b) < 0 ? undefined : num(b)),
    trunc: (n, s) => (num(n) >= 0 ? str(s).slice(0, num(n)) : str(s).slice(num(n))),
    nospace: (s) => str(s).replace(/\s+/g, ''),
    cat: (...a) =>
      a
        .filter((v) => v !== null && v !== undefined)
        .map(goString)
        .join(' '),
    indent: (n, s) => str(s).replace(/^/gm, ' '.repeat(num(n))),
    nindent: (n, s) => `\n${str(s).replace(/^/gm, ' '.repeat(num(n)))}`,
    toString: (v: unknown) => str(v),
    atoi: (s) => Number.parseInt(str(s), 10) || 0,
    int: (v) => Math.trunc(Number(v)) || 0,
    int64: (v) => Math.trunc(Number(v)) || 0,
    float64: (v) => Number(v) || 0,
    b64enc: (s) => Buffer.from(str(s)).toString('base64'),
    b64dec: (s) => Buffer.from(str(s), 'base64').toString('utf8'),
    sha256sum: (s) => createHash('sha256').update(str(s)).digest('hex'),
    toJson: (v) => goJson(v),
    toRawJson: (v) => JSON.stringify(v) ?? 'null',
    toPrettyJson: (v) => goJson(v, '  '),
    sha1sum: (s) => createHash('sha1').update(str(s)).digest('hex'),
    sha512sum: (s) => createHash('sha512').update(str(s)).digest('hex'),
    adler32sum: (s) => adler32(str(s)),
    plural: (one, many, n) => (num(n) === 1 ? one : many),
    fail: (msg) => {
      throw new Error(str(msg));
    },
    uuidv4: () => randomUUID(),
    bcrypt: (s) => goBcrypt(str(s)),
    // sprig's htpasswd: `user:` and the bcrypt hash; a user holding `:` is refused in the text.
    htpasswd: (user, pass) =>
      str(user).includes(':') ? `invalid username: ${str(user)}` : `${str(user)}:${goBcrypt(str(pass))}`,
    randAlphaNum: (n) => randomOf(ALPHA + DIGITS, num(n)),
    randAlpha: (n) => randomOf(ALPHA, num(n)),
    randNumeric: (n) => randomOf(DIGITS, num(n)),
    base: (p) => posix.basename(goClean(str(p))) || '/',
    dir: (p) => goClean(posix.dirname(str(p))),
    ext: (p) => posix.extname(str(p)),
    clean: (p) => goClean(str(p)),
    isAbs: (p) => str(p).startsWith('/'),
    regexFind: (re, s) => regexp(re).exec(str(s))?.[0] ?? '',
    regexFindAll: (re, s, n) => {
      const all = [...str(s).matchAll(globalRegexp(re))].map((m) => m[0]);
      return num(n) < 0 ? all : all.slice(0, num(n));
    },
    regexSplit: (re, s, n) => {
      // Go's Regexp.Split: n < 0 every piece, 0 none, else at most n (the last holds the rest).
      const limit = num(n);
      if (limit === 0) return [];
      const text = str(s);
      const out: string[] = [];
      let from = 0;
      for (const m of text.matchAll(globalRegexp(re))) {
        if (limit > 0 && out.length === limit - 1) break;
        if (m[0] === '' && (m.index === 0 || m.index === text.length)) continue;
        out.push(text.slice(from, m.index));
        from = m.index + m[0].length;
      }
      out.push(text.slice(from));
      return out;
    },
    regexQuoteMeta: (s) => quoteMeta(str(s)),
    regexMatch: (re, s) => regexp(re).test(str(s)),
    regexReplaceAll: (re, s, repl) =>
      str(s).replace(
        new RegExp(regexp(re), 'g'),
        // Go's $1 / ${1} / ${name} in JS's replacement syntax.
        str(repl).replace(/\$\{?(\w+)\}?/g, (_m, g: string) => (/^\d+$/.test(g) ? `$${g}` : `$<${g}>`)),
      ),
    // sprig: lists and maps
    list: (...a) => a,
    splitList: (sep, s) => str(s).split(str(sep)),
    // sprig's splitn: strings.SplitN, as a dict of _0, _1…
    splitn: (sep, n, s) => {
      const parts = str(s).split(str(sep));
      const limit = num(n);
      const kept =
        limit > 0 && parts.length > limit
          ? [...parts.slice(0, limit - 1), parts.slice(limit - 1).join(str(sep))]
          : parts;
      return Object.fromEntries(kept.map((p, i) => [`_${i}`, p]));
    },
    tuple: (...a) => a,
    rest: (l) => list(l).slice(1),
    initial: (l) => list(l).slice(0, -1),
    reverse: (l) => [...list(l)].reverse(),
    compact: (l) => list(l).filter((v) => truthy(v)),
    without: (l, ...omit) => list(l).filter((v) => !omit.includes(v)),
    prepend: (l, v) => [v, ...list(l)],
    concat: (...ls) => ls.flatMap((l) => list(l)),
    sortAlpha: (l) => list(l).map(str).sort(),
    toStrings: (l) => list(l).map(str),
    slice: (l, ...at) => {
      if (!Array.isArray(l)) throw new Error(`list should be type of slice or array but ${typeof l}`);
      return l.slice(at.length > 0 ? num(at[0]) : 0, at.length > 1 ? num(at[1]) : undefined);
    },
    pick: (m, ...keys) =>
      Object.fromEntries(Object.entries(m ?? {}).filter(([k]) => keys.map(str).includes(k))),
    omit: (m, ...keys) =>
      Object.fromEntries(Object.entries(m ?? {}).filter(([k]) => !keys.map(str).includes(k))),
    set: (m, k, v) => {
      (m as Record<string, unknown>)[str(k)] = v;
      return m;
    },
    unset: (m, k) => {
      delete (m as Record<string, unknown>)[str(k)];
      return m;
    },
    join: (sep, l) => list(l).map(str).join(str(sep)),
    first: (l) => list(l)[0] ?? null,
    last: (l) => list(l).at(-1) ?? null,
    append: (l, v) => [...list(l), v],
    has: (v, l) => list(l).includes(v),
    uniq: (l) => [...new Set(list(l))],
    until: (n) => Array.from({ length: Math.max(0, num(n)) }, (_, i) => i),
    untilStep: (start, stop, step) => {
      const out: number[] = [];
      for (let i = num(start); num(step) > 0 ? i < num(stop) : i > num(stop); i += num(step)) out.push(i);
      return out;
    },
    seq: (...a) => {
      const [start, stop] = a.length === 1 ? [1, num(a[0])] : [num(a[0]), num(a.at(-1))];
      const step = a.length === 3 ? num(a[1]) : start <= stop ? 1 : -1;
      const out: number[] = [];
      for (let i = start; step > 0 ? i <= stop : i >= stop; i += step) out.push(i);
      return out.join(' ');
    },
    dict: (...a) => {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < a.length; i += 2) out[str(a[i])] = a[i + 1] ?? '';
      return out;
    },
    get: (m, k) => (m as Record<string, unknown> | null)?.[str(k)] ?? '',
    hasKey: (m, k) => m !== null && typeof m === 'object' && Object.hasOwn(m, str(k)),
    keys: (...maps) => maps.flatMap((m) => Object.keys(m ?? {})),
    // sprig: arithmetic on integers (Go's int64)
    add: (...a) => a.reduce((s: number, v) => s + num(v), 0),
    add1: (v) => num(v) + 1,
    sub: (a, b) => num(a) - num(b),
    mul: (...a) => a.reduce((s: number, v) => s * num(v), 1),
    div: (a, b) => Math.trunc(num(a) / num(b)),
    mod: (a, b) => num(a) % num(b),
    max: (...a) => Math.max(...a.map(num)),
    min: (...a) => Math.min(...a.map(num)),
    // sprig: arithmetic on floats
    addf: (...a) => a.reduce((s: number, v) => s + num(v), 0),
    subf: (a, ...b) => b.reduce((s: number, v) => s - num(v), num(a)),
    mulf: (...a) => a.reduce((s: number, v) => s * num(v), 1),
    divf: (a, ...b) => b.reduce((s: number, v) => s / num(v), num(a)),
    floor: (v) => Math.floor(num(v)),
    ceil: (v) => Math.ceil(num(v)),
    // sprig's round: ceil when the fraction (signed, Go's math.Modf) is >= roundOn (.5), else floor.
    round: (v, places = 0, roundOn = 0.5) => {
      const f = 10 ** num(places);
      const digit = num(v) * f;
      return (digit % 1 >= num(roundOn) ? Math.ceil(digit) : Math.floor(digit)) / f;
    },
  };
  Object.assign(f, {
    mustRegexFindAll: f.regexFindAll,
    mustRegexReplaceAll: f.regexReplaceAll,
    mustRegexSplit: f.regexSplit,
    ...extraFunctions(hosts, { regexp, list, clean: f.clean!, dir: f.dir!, ext: f.ext! }),
  });
  return new Map(Object.entries(f));
}
