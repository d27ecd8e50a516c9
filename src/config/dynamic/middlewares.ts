import { z } from 'zod';
import { strictObject } from '../schema-helpers.ts';
import { CompressSchema } from './body-middlewares.ts';
import {
  CircuitBreakerSchema,
  InFlightReqSchema,
  RateLimitSchema,
  RetrySchema,
} from './traffic-middlewares.ts';

/*
 * Schemas of the built-in HTTP middlewares, with Traefik v3's YAML keys
 * (`pkg/config/dynamic/middlewares.go`). Objects are strict: a key we do not implement is an error,
 * never silently ignored. Regular expressions are Go RE2 syntax, translated to JS by
 * `translateGoRegexp` below and checked at validation time.
 */

// RFC 9110 §5.1 field-name = token.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// RFC 9110 §5.5: CR, LF and NUL in a field value would let a config smuggle extra header lines.
const FORBIDDEN_VALUE_CHAR = /[\r\n\0]/;

const HeaderName = z.string().regex(TOKEN, 'must be a valid header field name (RFC 9110 token)');

/** YAML gives numbers and booleans for unquoted scalars; Traefik's map[string]string takes them as text. */
const HeaderValue = z
  .union([z.string(), z.number(), z.boolean()])
  .transform(String)
  .refine((v) => !FORBIDDEN_VALUE_CHAR.test(v), 'header value must not contain CR, LF or NUL');

const HeaderMap = z.record(HeaderName, HeaderValue);

const PlainValue = z.string().refine((v) => !FORBIDDEN_VALUE_CHAR.test(v), 'must not contain CR, LF or NUL');

/** A Go (RE2) regular expression that must translate and compile. */
const GoRegexp = z.string().superRefine((src, ctx) => {
  const r = compileGoRegexp(src);
  if ('error' in r) ctx.addIssue({ code: 'custom', message: r.error });
});

/** Traefik v2's header options that v3 still reads (unrolled/secure's SSL redirect, Feature-Policy). */
const DEPRECATED_HEADERS: Readonly<Record<string, string>> = {
  sslRedirect: 'use an entry point redirection or the redirectScheme middleware',
  sslTemporaryRedirect: 'use an entry point redirection or the redirectScheme middleware',
  sslHost: 'use the redirectRegex middleware',
  sslForceHost: 'use the redirectRegex middleware',
  featurePolicy: 'use permissionsPolicy',
};

export const HeadersSchema = strictObject(
  {
    customRequestHeaders: HeaderMap.optional(),
    customResponseHeaders: HeaderMap.optional(),
    accessControlAllowCredentials: z.boolean().optional(),
    accessControlAllowHeaders: z.array(HeaderName).optional(),
    accessControlAllowMethods: z.array(z.string().regex(TOKEN, 'must be an HTTP method token')).optional(),
    accessControlAllowOriginList: z.array(PlainValue).optional(),
    accessControlAllowOriginListRegex: z.array(GoRegexp).optional(),
    accessControlExposeHeaders: z.array(HeaderName).optional(),
    accessControlMaxAge: z.number().int().optional(),
    addVaryHeader: z.boolean().optional(),
    allowedHosts: z.array(PlainValue).optional(),
    hostsProxyHeaders: z.array(HeaderName).optional(),
    sslProxyHeaders: HeaderMap.optional(),
    stsSeconds: z.number().int().nonnegative().optional(),
    stsIncludeSubdomains: z.boolean().optional(),
    stsPreload: z.boolean().optional(),
    forceSTSHeader: z.boolean().optional(),
    frameDeny: z.boolean().optional(),
    customFrameOptionsValue: PlainValue.optional(),
    contentTypeNosniff: z.boolean().optional(),
    browserXssFilter: z.boolean().optional(),
    customBrowserXSSValue: PlainValue.optional(),
    contentSecurityPolicy: PlainValue.optional(),
    contentSecurityPolicyReportOnly: PlainValue.optional(),
    publicKey: PlainValue.optional(),
    referrerPolicy: PlainValue.optional(),
    permissionsPolicy: PlainValue.optional(),
    isDevelopment: z.boolean().optional(),
    /** Deprecated: redirect plain HTTP requests to https (301; 307 with sslTemporaryRedirect). */
    sslRedirect: z.boolean().optional(),
    sslTemporaryRedirect: z.boolean().optional(),
    /** Deprecated: the host the SSL redirect goes to (default: the request's). */
    sslHost: PlainValue.optional(),
    /** Deprecated: also redirect HTTPS requests whose host is not sslHost. */
    sslForceHost: z.boolean().optional(),
    /** Deprecated: the Feature-Policy response header. */
    featurePolicy: PlainValue.optional(),
  },
  [],
  { deprecated: DEPRECATED_HEADERS },
);

export const StripPrefixSchema = z.strictObject({
  prefixes: z.array(z.string()).default([]),
  /**
   * Deprecated in Traefik v3 (kept only for compatibility). The stripped path always starts with '/'
   * here, which is what `forceSlash: true` (Traefik's default) did; `false` has no effect.
   */
  forceSlash: z.boolean().optional(),
});

export const StripPrefixRegexSchema = z.strictObject({
  regex: z.array(GoRegexp).default([]),
});

export const AddPrefixSchema = z.strictObject({
  prefix: z.string().min(1, 'prefix cannot be empty'),
});

export const ReplacePathSchema = z.strictObject({
  path: z.string().startsWith('/', "path must start with '/'"),
});

export const ReplacePathRegexSchema = z.strictObject({
  regex: GoRegexp,
  replacement: z.string(),
});

const Port = z
  .union([z.string(), z.number()])
  .transform(String)
  .refine((p) => /^\d{1,5}$/.test(p) && Number(p) >= 1 && Number(p) <= 65535, 'port must be 1-65535');

export const RedirectSchemeSchema = z.strictObject({
  scheme: z.string().regex(/^[A-Za-z][A-Za-z0-9+.-]*$/, 'scheme must be a URL scheme such as https'),
  port: Port.optional(),
  permanent: z.boolean().default(false),
});

export const RedirectRegexSchema = z.strictObject({
  regex: GoRegexp,
  replacement: PlainValue,
  permanent: z.boolean().default(false),
});

export const ChainSchema = z.strictObject({
  middlewares: z.array(z.string().min(1)),
});

const Flag = z.boolean().default(false);

/** Traefik's passTLSClientCert (`TLSClientCertificate*DNInfo`): the issuer has no organizationalUnit. */
export const PassTLSClientCertSchema = z.strictObject({
  pem: Flag,
  info: z
    .strictObject({
      notAfter: Flag,
      notBefore: Flag,
      sans: Flag,
      serialNumber: Flag,
      subject: z
        .strictObject({
          country: Flag,
          province: Flag,
          locality: Flag,
          organization: Flag,
          organizationalUnit: Flag,
          commonName: Flag,
          serialNumber: Flag,
          domainComponent: Flag,
        })
        .optional(),
      issuer: z
        .strictObject({
          country: Flag,
          province: Flag,
          locality: Flag,
          organization: Flag,
          commonName: Flag,
          serialNumber: Flag,
          domainComponent: Flag,
        })
        .optional(),
    })
    .optional(),
});

export const middlewareSchemas = {
  headers: HeadersSchema,
  stripPrefix: StripPrefixSchema,
  stripPrefixRegex: StripPrefixRegexSchema,
  addPrefix: AddPrefixSchema,
  replacePath: ReplacePathSchema,
  replacePathRegex: ReplacePathRegexSchema,
  redirectScheme: RedirectSchemeSchema,
  redirectRegex: RedirectRegexSchema,
  chain: ChainSchema,
  circuitBreaker: CircuitBreakerSchema,
  retry: RetrySchema,
  rateLimit: RateLimitSchema,
  inFlightReq: InFlightReqSchema,
  passTLSClientCert: PassTLSClientCertSchema,
  compress: CompressSchema,
} satisfies Record<string, z.ZodType>;

export type MiddlewareType = keyof typeof middlewareSchemas;
export type MiddlewareConfigOf<K extends MiddlewareType> = z.output<(typeof middlewareSchemas)[K]>;

export type HeadersConfig = z.output<typeof HeadersSchema>;
export type StripPrefixConfig = z.output<typeof StripPrefixSchema>;
export type StripPrefixRegexConfig = z.output<typeof StripPrefixRegexSchema>;
export type AddPrefixConfig = z.output<typeof AddPrefixSchema>;
export type ReplacePathConfig = z.output<typeof ReplacePathSchema>;
export type ReplacePathRegexConfig = z.output<typeof ReplacePathRegexSchema>;
export type RedirectSchemeConfig = z.output<typeof RedirectSchemeSchema>;
export type RedirectRegexConfig = z.output<typeof RedirectRegexSchema>;
export type ChainConfig = z.output<typeof ChainSchema>;
export type {
  CircuitBreakerConfig,
  InFlightReqConfig,
  RateLimitConfig,
  RetryConfig,
  SourceCriterionConfig,
} from './traffic-middlewares.ts';

// ---------------------------------------------------------------------------------------------
// Go RE2 → JS RegExp. Traefik configs are written for Go's regexp; the same text must mean the
// same thing here or fail loudly, never match something else.

export interface GoRegexp {
  readonly regexp: RegExp;
  /** Capture group names by group number (index 0 unused); undefined for unnamed groups. */
  readonly groupNames: readonly (string | undefined)[];
}

/** Translates and compiles a Go regexp. `extraFlags` (e.g. 'g', 'y') are added to the translated ones. */
export function compileGoRegexp(src: string, extraFlags = ''): GoRegexp | { error: string } {
  const t = translateGoRegexp(src);
  if ('error' in t) return { error: `invalid regular expression ${JSON.stringify(src)}: ${t.error}` };
  try {
    return { regexp: new RegExp(t.source, `${t.flags}${extraFlags}u`), groupNames: t.groupNames };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return { error: `invalid regular expression ${JSON.stringify(src)}: ${msg}` };
  }
}

const GENERAL_CATEGORIES = new Set(
  'C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs'.split(
    ' ',
  ),
);

// Go's ASCII classes ([[:alpha:]] …), written as JS class contents.
const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

const JS_SYNTAX = '^$\\.*+?()[]{}|/';
const OCTAL = /[0-7]/;

interface Translated {
  readonly source: string;
  readonly flags: string;
  readonly groupNames: (string | undefined)[];
}

export function translateGoRegexp(src: string): Translated | { error: string } {
  let i = 0;
  let flags = '';
  const lead = /^\(\?([ims]*)(?:-([ims]*))?\)/.exec(src);
  if (lead && lead[0] !== '(?)' && lead[0] !== '(?-)') {
    flags = [...new Set(lead[1])].join('');
    i = lead[0].length;
  } else if (/^\(\?[imsU-]*U[imsU-]*\)/.test(src)) {
    return { error: 'the U (ungreedy) flag is not supported' };
  }
  let out = '';
  let inClass = false;
  let classStart = -1;
  const groupNames: (string | undefined)[] = [undefined];
  /** Per open group, the (?flags) scopes opened inside it that are still open. */
  const scopes: string[][] = [[]];
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === '\\') {
      const e = translateEscape(src, i, inClass);
      if ('error' in e) return e;
      out += e.out;
      i = e.next;
      continue;
    }
    if (inClass) {
      if (c === ']' && i !== classStart) {
        inClass = false;
        out += ']';
      } else if (c === ']') {
        out += '\\]'; // Go: ']' first in a class is literal
      } else if (src.startsWith('[:', i)) {
        const end = src.indexOf(':]', i + 2);
        const name = end === -1 ? '' : src.slice(i + 2, end);
        if (name.startsWith('^')) return { error: `negated POSIX class [:${name}:] is not supported` };
        const cls = POSIX_CLASSES[name];
        if (cls === undefined) return { error: `unknown POSIX class [:${name}:]` };
        out += cls;
        i = end + 2;
        continue;
      } else if (c === '[') {
        out += '\\[';
      } else {
        out += c;
      }
      i++;
      continue;
    }
    switch (c) {
      case '[':
        inClass = true;
        out += '[';
        i++;
        if (src[i] === '^') {
          out += '^';
          i++;
        }
        classStart = i;
        continue;
      case '(': {
        if (src[i + 1] !== '?') {
          groupNames.push(undefined);
          scopes.push([]);
          out += '(';
          i++;
          continue;
        }
        const rest = src.slice(i);
        const named = /^\(\?P?<([A-Za-z0-9_]+)>/.exec(rest);
        if (named) {
          groupNames.push(named[1]);
          scopes.push([]);
          out += `(?<${named[1]}>`;
          i += named[0].length;
          continue;
        }
        if (/^\(\?(=|!|<=|<!)/.test(rest)) return { error: 'lookaround assertions are not supported (RE2)' };
        const mod = /^\(\?([imsU]*)(?:-([imsU]*))?([:)])/.exec(rest);
        if (!mod) return { error: `invalid group syntax at offset ${i}` };
        if (rest.slice(0, mod[0].length).includes('U'))
          return { error: 'the U (ungreedy) flag is not supported' };
        const flagSpec = mod[2] === undefined ? mod[1]! : `${mod[1]}-${mod[2]}`;
        if (mod[0] === '(?:') {
          // Go: a plain non-capturing group.
          scopes.push([]);
          out += '(?:';
          i += 3;
          continue;
        }
        if (flagSpec === '' || flagSpec === '-') return { error: `missing flags in ${mod[0]}` };
        i += mod[0].length;
        if (mod[3] === ')') {
          // Go: (?flags) holds until the end of the enclosing group, across '|'. JS only has
          // scoped modifiers, so open one here and close it at the next '|' or ')' of this group.
          scopes.at(-1)!.push(flagSpec);
          out += `(?${flagSpec}:`;
        } else {
          scopes.push([]);
          out += mod[0];
        }
        continue;
      }
      case '|': {
        const open = scopes.at(-1)!;
        out += `${')'.repeat(open.length)}|${open.map((f) => `(?${f}:`).join('')}`;
        i++;
        continue;
      }
      case ')': {
        const open = scopes.length > 1 ? scopes.pop()! : [];
        out += `${')'.repeat(open.length)})`;
        i++;
        continue;
      }
      case '{': {
        const q = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i));
        if (!q) {
          out += '\\{'; // Go: '{' that does not start a repeat is literal
          i++;
          continue;
        }
        if (Number(q[1]) > 1000 || (q[3] !== undefined && q[3] !== '' && Number(q[3]) > 1000)) {
          return { error: 'repeat count must be at most 1000' };
        }
        out += q[0];
        i += q[0].length;
        continue;
      }
      case '}':
      case ']':
        out += `\\${c}`;
        i++;
        continue;
      default:
        out += c;
        i++;
    }
  }
  if (inClass) return { error: 'missing closing ]' };
  for (let d = scopes.length - 1; d >= 0; d--) out += ')'.repeat(scopes[d]!.length);
  return { source: out, flags, groupNames };
}

function translateEscape(
  src: string,
  i: number,
  inClass: boolean,
): { out: string; next: number } | { error: string } {
  const d = src[i + 1];
  if (d === undefined) return { error: 'trailing backslash at end of expression' };
  switch (d) {
    case 'd':
    case 'D':
    case 'w':
    case 'W':
    case 'S':
    case 'f':
    case 't':
    case 'n':
    case 'r':
    case 'v':
      return { out: `\\${d}`, next: i + 2 };
    case 's':
      // Go's \s is ASCII whitespace only; JS's also matches \v and Unicode spaces.
      return { out: inClass ? '\\t\\n\\f\\r ' : '[\\t\\n\\f\\r ]', next: i + 2 };
    case 'a':
      return { out: '\\x07', next: i + 2 };
    case 'b':
    case 'B':
      if (inClass) return { error: `\\${d} is not allowed in a character class` };
      return { out: `\\${d}`, next: i + 2 };
    case 'A':
    case 'z':
      if (inClass) return { error: `\\${d} is not allowed in a character class` };
      // Lookarounds keep the "start/end of text" meaning even under the m flag.
      return { out: d === 'A' ? '(?<![\\s\\S])' : '(?![\\s\\S])', next: i + 2 };
    case 'Q': {
      const end = src.indexOf('\\E', i + 2);
      const lit = src.slice(i + 2, end === -1 ? src.length : end);
      let out = '';
      for (const ch of lit) out += JS_SYNTAX.includes(ch) || (inClass && ch === '-') ? `\\${ch}` : ch;
      return { out, next: end === -1 ? src.length : end + 2 };
    }
    case 'p':
    case 'P': {
      let negate = d === 'P';
      let name: string;
      let next: number;
      if (src[i + 2] === '{') {
        const end = src.indexOf('}', i + 3);
        if (end === -1) return { error: 'missing } in \\p{...}' };
        name = src.slice(i + 3, end);
        next = end + 1;
      } else {
        name = src[i + 2] ?? '';
        next = i + 3;
      }
      if (name.startsWith('^')) {
        negate = !negate;
        name = name.slice(1);
      }
      if (!/^[A-Za-z_]+$/.test(name)) return { error: `invalid character class \\${d}{${name}}` };
      const prop = GENERAL_CATEGORIES.has(name) || name === 'Any' ? name : `Script=${name}`;
      return { out: `\\${negate ? 'P' : 'p'}{${prop}}`, next };
    }
    case 'x': {
      if (src[i + 2] === '{') {
        const end = src.indexOf('}', i + 3);
        const hex = end === -1 ? '' : src.slice(i + 3, end);
        if (!/^[0-9A-Fa-f]{1,6}$/.test(hex) || Number.parseInt(hex, 16) > 0x10ffff) {
          return { error: 'invalid \\x{...} escape' };
        }
        return { out: `\\u{${hex}}`, next: end + 1 };
      }
      const hex = src.slice(i + 2, i + 4);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return { error: 'invalid \\x escape' };
      return { out: `\\x${hex}`, next: i + 4 };
    }
    default:
  }
  if (d >= '0' && d <= '9') {
    // Go: \0 and \1-\7 followed by octal digits are octal escapes; a lone \1-\9 is a backreference.
    if (d !== '0' && (d > '7' || !OCTAL.test(src[i + 2] ?? ''))) {
      return { error: 'backreferences are not supported (RE2)' };
    }
    let j = i + 2;
    while (j < i + 4 && OCTAL.test(src[j] ?? '')) j++;
    const code = Number.parseInt(src.slice(i + 1, j), 8);
    return { out: `\\u{${code.toString(16)}}`, next: j };
  }
  if (/[A-Za-z]/.test(d)) return { error: `invalid escape \\${d}` };
  // Go lets any punctuation be escaped; the JS u flag only allows syntax characters (and '-' in a class).
  if (JS_SYNTAX.includes(d) || (inClass && d === '-')) return { out: `\\${d}`, next: i + 2 };
  return { out: d, next: i + 2 };
}
