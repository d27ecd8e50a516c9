import { createCipheriv, createDecipheriv, randomBytes, randomInt } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { serverUrlParseError } from '../dynamic/server-url.ts';
import { GoValue, goString, type TemplateFunction, truthy } from './exec.ts';
import {
  durationString,
  GoTime,
  isParseError,
  LOCAL,
  loadLocation,
  parseDuration,
  parseTime,
  roundDuration,
  UTC,
} from './go-time.ts';
import { checkConstraint, newVersion } from './semver.ts';
import {
  buildCustomCert,
  derivePassword,
  genCA,
  genPrivateKey,
  genSelfSignedCert,
  genSignedCert,
} from './sprig-crypto.ts';

/*
 * The rest of sprig v3's TxtFuncMap (Masterminds/sprig v3.3 functions.go genericMap) beyond what
 * functions.ts holds: the clock (date.go), semver (semver.go), getHostByName (network.go), and
 * the string, list, dict, reflection, encoding, crypto and URL functions, each as sprig writes
 * it (the crypto ones in sprig-crypto.ts).
 */

const str = (v: unknown): string => (typeof v === 'string' ? v : goString(v));
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** What getHostByName answers (node:dns, looked up before the render that reads it). */
export interface HostTable {
  /** Addresses per name looked up; an empty list when the lookup failed. */
  readonly resolved: Map<string, readonly string[]>;
  /** Names asked for and not looked up yet: the render is done again once they are. */
  readonly missing: Set<string>;
}

export function emptyHostTable(): HostTable {
  return { resolved: new Map(), missing: new Set() };
}

/** sprig's date functions read a time.Time, or an integer as Unix seconds; anything else is now. */
function toTime(v: unknown): GoTime {
  if (v instanceof GoTime) return v;
  if (isInt(v)) return GoTime.unix(v);
  return GoTime.now();
}

function timeArg(v: unknown): GoTime {
  if (!(v instanceof GoTime)) throw new Error(`wrong type for value; expected time.Time; got ${typeOf(v)}`);
  return v;
}

function dateInZone(fmt: unknown, date: unknown, zone: unknown): string {
  const loc = loadLocation(str(zone)) ?? UTC;
  return toTime(date).in(loc).format(str(fmt));
}

const YEAR = 365n * 24n * 3_600_000_000_000n;
const MONTH = 30n * 24n * 3_600_000_000_000n;
const DAY = 24n * 3_600_000_000_000n;

/** sprig's durationRound: the largest whole unit (`y`, `mo`, `d`, `h`, `m`, `s`), truncated. */
function durationRound(v: unknown): string {
  let d = 0n;
  if (typeof v === 'string') {
    try {
      d = parseDuration(v);
    } catch {
      d = 0n;
    }
  } else if (isInt(v)) d = BigInt(v);
  else if (v instanceof GoTime) d = GoTime.now().sub(v);
  const u = d < 0n ? -d : d;
  for (const [unit, size] of [
    ['y', YEAR],
    ['mo', MONTH],
    ['d', DAY],
    ['h', 3_600_000_000_000n],
    ['m', 60_000_000_000n],
    ['s', 1_000_000_000n],
  ] as const) {
    if (u > size) return `${u / size}${unit}`;
  }
  return '0s';
}

/** Go's %T for the values templates hold. */
function typeOf(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (v instanceof GoValue) return v.goType;
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'bigint') return 'int64';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

/** reflect.Kind's String for the same values. */
function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'invalid';
  if (v instanceof GoTime) return 'struct';
  if (v instanceof GoValue) return 'ptr';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'bigint') return 'int64';
  if (typeof v === 'string' || typeof v === 'boolean') return typeof v === 'string' ? 'string' : 'bool';
  return Array.isArray(v) ? 'slice' : 'map';
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof GoValue);

/** mergo.Merge (sprig's merge) and with WithOverride (mergeOverwrite): maps merged deep. */
function mergeInto(dst: Record<string, unknown>, src: unknown, override: boolean): void {
  if (!isMap(src)) return;
  for (const [k, v] of Object.entries(src)) {
    const cur = dst[k];
    if (isMap(cur) && isMap(v)) mergeInto(cur, v, override);
    else if (!Object.hasOwn(dst, k) || !truthy(cur) || (override && truthy(v))) dst[k] = v;
  }
}

function deepCopy<T>(v: T): T {
  if (Array.isArray(v)) return v.map(deepCopy) as T;
  if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepCopy(x)])) as T;
  return v;
}

/** goutils.AbbreviateFull. */
function abbreviateFull(s: string, offset: number, maxWidth: number): string {
  if (s === '' || maxWidth < 4 || s.length <= maxWidth) return s;
  let off = Math.min(offset, s.length);
  if (s.length - off < maxWidth - 3) off = s.length - (maxWidth - 3);
  if (off <= 4) return `${s.slice(0, maxWidth - 3)}...`;
  if (maxWidth < 7) return s;
  if (off + maxWidth - 3 < s.length) return `...${abbreviateFull(s.slice(off), 0, maxWidth - 3)}`;
  return `...${s.slice(s.length - (maxWidth - 3))}`;
}

/** goutils.WrapCustom. */
function wrapCustom(s: string, width: number, nl: string, wrapLong: boolean): string {
  if (s === '') return '';
  const newline = nl === '' ? '\n' : nl;
  const w = Math.max(width, 1);
  let offset = 0;
  let out = '';
  while (s.length - offset > w) {
    if (s[offset] === ' ') {
      offset++;
      continue;
    }
    const at = s.slice(offset, w + offset + 1).lastIndexOf(' ') + offset;
    if (at >= offset) {
      out += s.slice(offset, at) + newline;
      offset = at + 1;
    } else if (wrapLong) {
      out += s.slice(offset, w + offset) + newline;
      offset += w;
    } else {
      const end = w + offset;
      const index = s.slice(end).indexOf(' ');
      if (index === -1) {
        out += s.slice(offset);
        offset = s.length;
      } else {
        out += s.slice(offset, index + end) + newline;
        offset = index + end + 1;
      }
    }
  }
  return out + s.slice(offset);
}

/** huandu/xstrings' word split for snakecase and kebabcase: case changes, digits, separators. */
function caseWords(s: string, sep: string): string {
  return s
    .replace(/([a-z\d])([A-Z])/g, `$1${sep}$2`)
    .replace(/([A-Z]+)([A-Z][a-z])/g, `$1${sep}$2`)
    .replace(/[\s_-]+/g, sep)
    .toLowerCase();
}

function aesKey(password: string): Buffer {
  const key = Buffer.alloc(32);
  Buffer.from(password).copy(key, 0, 0, 32);
  return key;
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(data: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of data) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out.padEnd(Math.ceil(out.length / 8) * 8, '=');
}

/** base32.StdEncoding.DecodeString; Go's error text when it is not base32 (sprig prints it). */
function base32Decode(s: string): string {
  const body = s.replace(/=+$/, '');
  if (s.length % 8 !== 0) return `illegal base32 data at input byte ${Math.floor(s.length / 8) * 8}`;
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (let i = 0; i < body.length; i++) {
    const v = B32.indexOf(body[i]!);
    if (v === -1) return `illegal base32 data at input byte ${i}`;
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** sprig's urlParse: Go's url.Parse, as a dict. */
function urlParse(v: string): Record<string, string> {
  const err = serverUrlParseError(v);
  if (err !== undefined)
    throw new Error(`unable to parse url: ${err.replace(/^invalid URL (".*"): /s, 'parse $1: ')}`);
  const m = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?([^#]*)(?:#(.*))?$/.exec(v)!;
  let rest = m[2]!;
  const fragment = m[3] === undefined ? '' : decodeURIComponent(m[3]);
  let query = '';
  const qi = rest.indexOf('?');
  if (qi !== -1) {
    query = rest.slice(qi + 1);
    rest = rest.slice(0, qi);
  }
  let host = '';
  let userinfo = '';
  let opaque = '';
  let path = rest;
  const scheme = (m[1] ?? '').toLowerCase();
  if (scheme !== '' && !rest.startsWith('/')) {
    opaque = rest;
    path = '';
  } else if (rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    const authority = slash === -1 ? rest.slice(2) : rest.slice(2, slash);
    path = slash === -1 ? '' : rest.slice(slash);
    const at = authority.lastIndexOf('@');
    userinfo = at === -1 ? '' : authority.slice(0, at);
    host = decodeURIComponent(authority.slice(at + 1));
  }
  const hostname = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d*$/, '');
  return {
    scheme,
    host,
    hostname,
    path: decodeURIComponent(path),
    query,
    opaque,
    fragment,
    userinfo,
  };
}

/** Go's url.URL.String for sprig's urlJoin. */
function urlJoin(d: unknown): string {
  const get = (k: string): string => (isMap(d) && typeof d[k] === 'string' ? (d[k] as string) : '');
  const percent = (s: string, keep: RegExp): string =>
    [...Buffer.from(s)]
      .map((b) =>
        keep.test(String.fromCharCode(b))
          ? String.fromCharCode(b)
          : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
      )
      .join('');
  let out = '';
  const scheme = get('scheme');
  if (scheme !== '') out += `${scheme}:`;
  if (get('opaque') !== '') out += get('opaque');
  else {
    const host = get('host');
    const userinfo = get('userinfo');
    if (scheme !== '' || host !== '' || userinfo !== '') {
      if (host !== '' || get('path') !== '' || userinfo !== '') out += '//';
      if (userinfo !== '') out += `${userinfo}@`;
      out += host;
    }
    const path = percent(get('path'), /[A-Za-z0-9\-_.~$&+,/:;=@]/);
    if (path !== '' && !path.startsWith('/') && host !== '') out += '/';
    out += path;
  }
  if (get('query') !== '') out += `?${get('query')}`;
  if (get('fragment') !== '') out += `#${percent(get('fragment'), /[A-Za-z0-9\-_.~$&+,/:;=@!()*?]/)}`;
  return out;
}

export function extraFunctions(
  hosts: HostTable,
  base: {
    regexp(src: unknown): RegExp;
    list(v: unknown): unknown[];
    clean: TemplateFunction;
    dir: TemplateFunction;
    ext: TemplateFunction;
  },
): Record<string, TemplateFunction> {
  const { regexp, list } = base;
  const dateModify = (fmt: unknown, date: unknown): GoTime => {
    const t = timeArg(date);
    try {
      return t.add(parseDuration(str(fmt)));
    } catch {
      return t;
    }
  };
  const mustDateModify = (fmt: unknown, date: unknown): GoTime => timeArg(date).add(parseDuration(str(fmt)));
  const mustToDate = (fmt: unknown, s: unknown): GoTime => {
    try {
      return parseTime(str(fmt), str(s), LOCAL);
    } catch (e) {
      if (isParseError(e)) throw new Error(e.message);
      throw e;
    }
  };
  const regexReplaceAllLiteral = (re: unknown, s: unknown, repl: unknown) =>
    str(s).replace(new RegExp(regexp(re), 'g'), () => str(repl));
  const chunk = (size: unknown, l: unknown): unknown[][] => {
    const n = Number(size);
    const items = list(l);
    const out: unknown[][] = [];
    for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
    return out;
  };
  const fromJson = (s: unknown): unknown => JSON.parse(str(s));
  const goJsonOf = (v: unknown, indent = ''): string => JSON.stringify(v, null, indent) ?? 'null';
  return {
    hello: () => 'Hello!',
    // date.go
    now: () => GoTime.now(),
    date: (fmt, date) => dateInZone(fmt, date, 'Local'),
    dateInZone,
    date_in_zone: dateInZone,
    htmlDate: (date) => dateInZone('2006-01-02', date, 'Local'),
    htmlDateInZone: (date, zone) => dateInZone('2006-01-02', date, zone),
    dateModify,
    date_modify: dateModify,
    mustDateModify,
    must_date_modify: mustDateModify,
    ago: (date) => durationString(roundDuration(GoTime.now().sub(toTime(date)), 1_000_000_000n)),
    duration: (sec) => {
      let n = 0n;
      if (typeof sec === 'string') n = /^[+-]?\d+$/.test(sec) ? BigInt(sec) : 0n;
      else if (isInt(sec)) n = BigInt(sec);
      return durationString(n * 1_000_000_000n);
    },
    durationRound,
    toDate: (fmt, s) => {
      try {
        return parseTime(str(fmt), str(s), LOCAL);
      } catch {
        return GoTime.zero();
      }
    },
    mustToDate,
    unixEpoch: (date) => String(timeArg(date).sec),
    // semver.go
    semver: (v) => newVersion(str(v)),
    semverCompare: (c, v) => checkConstraint(str(c), newVersion(str(v))),
    // network.go: net.LookupHost, one address at random; none makes rand.Intn panic.
    getHostByName: (name) => {
      const addrs = hosts.resolved.get(str(name));
      if (addrs === undefined) {
        hosts.missing.add(str(name));
        return '';
      }
      if (addrs.length === 0) throw new Error('invalid argument to Intn');
      return addrs[randomInt(addrs.length)];
    },
    // strings.go
    abbrev: (width, s) => (Number(width) < 4 ? str(s) : abbreviateFull(str(s), 0, Number(width))),
    abbrevboth: (left, right, s) =>
      Number(right) < 4 || (Number(left) > 0 && Number(right) < 7)
        ? str(s)
        : abbreviateFull(str(s), Number(left), Number(right)),
    untitle: (s) => str(s).replace(/(^|\s)(\S)/gu, (_m, sp: string, c: string) => sp + c.toLowerCase()),
    initials: (s) =>
      str(s)
        .split(/\s+/)
        .filter((w) => w !== '')
        .map((w) => [...w][0])
        .join(''),
    trimall: (cut, s) => {
      const set = new Set(str(cut));
      let t = str(s);
      while (t !== '' && set.has(t[0]!)) t = t.slice(1);
      while (t !== '' && set.has(t.at(-1)!)) t = t.slice(0, -1);
      return t;
    },
    swapcase: (s) =>
      [...str(s)].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(''),
    shuffle: (s) => {
      const cs = [...str(s)];
      for (let i = cs.length - 1; i > 0; i--) {
        const j = randomInt(i + 1);
        [cs[i], cs[j]] = [cs[j]!, cs[i]!];
      }
      return cs.join('');
    },
    snakecase: (s) => caseWords(str(s), '_'),
    kebabcase: (s) => caseWords(str(s), '-'),
    camelcase: (s) =>
      str(s)
        .split(/[\s_-]+/)
        .map((w) => (w === '' ? '' : w[0]!.toUpperCase() + w.slice(1)))
        .join(''),
    wrap: (l, s) => wrapCustom(str(s), Number(l), '', false),
    wrapWith: (l, sep, s) => wrapCustom(str(s), Number(l), str(sep), true),
    randAscii: (n) => {
      let out = '';
      for (let i = 0; i < Number(n); i++) out += String.fromCharCode(32 + randomInt(95));
      return out;
    },
    toDecimal: (v) => {
      const s = str(v);
      return /^[+-]?[0-7]+$/.test(s) ? Number.parseInt(s, 8) : 0;
    },
    // numeric.go
    randInt: (min, max) => {
      const span = Number(max) - Number(min);
      if (span <= 0) throw new Error('invalid argument to Intn');
      return Number(min) + randomInt(span);
    },
    add1f: (v) => Number(v) + 1,
    biggest: (...a) => Math.max(...a.map(Number)),
    maxf: (...a) => Math.max(...a.map(Number)),
    minf: (...a) => Math.min(...a.map(Number)),
    // defaults.go
    all: (...a) => a.every((v) => truthy(v)),
    any: (...a) => a.some((v) => truthy(v)),
    mustCompact: (l) => list(l).filter((v) => truthy(v)),
    fromJson: (s) => {
      try {
        return fromJson(s);
      } catch {
        return null;
      }
    },
    mustFromJson: fromJson,
    mustToJson: (v) => goJsonOf(v),
    mustToRawJson: (v) => goJsonOf(v),
    mustToPrettyJson: (v) => goJsonOf(v, '  '),
    deepCopy,
    mustDeepCopy: deepCopy,
    // reflect.go
    typeOf,
    typeIs: (target, v) => str(target) === typeOf(v),
    typeIsLike: (target, v) => str(target) === typeOf(v) || str(target) === `*${typeOf(v)}`,
    kindOf,
    kindIs: (target, v) => str(target) === kindOf(v),
    deepEqual: (a, b) => isDeepStrictEqual(a, b),
    // filepath (sprig's os* functions; Traefik runs on Unix paths)
    osBase: (p) => str(p).replace(/\/+$/, '').split('/').pop() || (str(p) === '' ? '.' : '/'),
    osClean: (p) => base.clean(p),
    osDir: (p) => base.dir(p),
    osExt: (p) => base.ext(p),
    osIsAbs: (p) => str(p).startsWith('/'),
    // encoding
    b32enc: (s) => base32(Buffer.from(str(s))),
    b32dec: (s) => base32Decode(str(s)),
    randBytes: (n) => randomBytes(Number(n)).toString('base64'),
    // crypto.go: AES-256-CBC with the password as the key (zero-padded, cut at 32 bytes)
    encryptAES: (password, plaintext) => {
      if (str(plaintext) === '') return '';
      const iv = randomBytes(16);
      const c = createCipheriv('aes-256-cbc', aesKey(str(password)), iv);
      return Buffer.concat([iv, c.update(str(plaintext)), c.final()]).toString('base64');
    },
    decryptAES: (password, crypt64) => {
      if (str(crypt64) === '') return '';
      const crypt = Buffer.from(str(crypt64), 'base64');
      const d = createDecipheriv('aes-256-cbc', aesKey(str(password)), crypt.subarray(0, 16));
      d.setAutoPadding(false);
      const out = Buffer.concat([d.update(crypt.subarray(16)), d.final()]);
      return out.subarray(0, out.length - (out.at(-1) ?? 0)).toString('utf8');
    },
    derivePassword: (counter, type, password, user, site) =>
      derivePassword(Number(counter), str(type), str(password), str(user), str(site)),
    genPrivateKey: (type) => genPrivateKey(str(type)),
    genCA: (cn, days) => genCA(str(cn), Number(days)),
    genCAWithKey: (cn, days, key) => genCA(str(cn), Number(days), str(key)),
    genSelfSignedCert: (cn, ips, dns, days) => genSelfSignedCert(str(cn), list(ips), list(dns), Number(days)),
    genSelfSignedCertWithKey: (cn, ips, dns, days, key) =>
      genSelfSignedCert(str(cn), list(ips), list(dns), Number(days), str(key)),
    genSignedCert: (cn, ips, dns, days, ca) => genSignedCert(str(cn), list(ips), list(dns), Number(days), ca),
    genSignedCertWithKey: (cn, ips, dns, days, ca, key) =>
      genSignedCert(str(cn), list(ips), list(dns), Number(days), ca, str(key)),
    buildCustomCert: (cert, key) => buildCustomCert(str(cert), str(key)),
    // dict.go
    pluck: (name, ...dicts) =>
      dicts
        .filter((d) => isMap(d) && Object.hasOwn(d, str(name)))
        .map((d) => (d as Record<string, unknown>)[str(name)]),
    merge: (dst, ...srcs) => {
      for (const s of srcs) mergeInto(dst as Record<string, unknown>, s, false);
      return dst;
    },
    mustMerge: (dst, ...srcs) => {
      for (const s of srcs) mergeInto(dst as Record<string, unknown>, s, false);
      return dst;
    },
    mergeOverwrite: (dst, ...srcs) => {
      for (const s of srcs) mergeInto(dst as Record<string, unknown>, s, true);
      return dst;
    },
    mustMergeOverwrite: (dst, ...srcs) => {
      for (const s of srcs) mergeInto(dst as Record<string, unknown>, s, true);
      return dst;
    },
    values: (d) =>
      isMap(d)
        ? Object.keys(d)
            .sort()
            .map((k) => d[k])
        : [],
    dig: (...ps) => {
      if (ps.length < 3) throw new Error('dig needs at least three arguments');
      let dict = ps.at(-1);
      const def = ps.at(-2);
      const keys = ps.slice(0, -2).map(str);
      for (const [i, k] of keys.entries()) {
        if (!isMap(dict) || !Object.hasOwn(dict, k)) return def;
        if (i === keys.length - 1) return dict[k];
        dict = dict[k];
      }
      return def;
    },
    // list.go
    push: (l, v) => [...list(l), v],
    mustPush: (l, v) => [...list(l), v],
    mustAppend: (l, v) => [...list(l), v],
    mustPrepend: (l, v) => [v, ...list(l)],
    mustFirst: (l) => list(l)[0] ?? null,
    mustRest: (l) => list(l).slice(1),
    mustLast: (l) => list(l).at(-1) ?? null,
    mustInitial: (l) => list(l).slice(0, -1),
    mustReverse: (l) => [...list(l)].reverse(),
    mustUniq: (l) => [...new Set(list(l))],
    mustWithout: (l, ...omit) => list(l).filter((v) => !omit.includes(v)),
    mustHas: (v, l) => list(l).includes(v),
    mustSlice: (l, ...at) =>
      list(l).slice(at.length > 0 ? Number(at[0]) : 0, at.length > 1 ? Number(at[1]) : undefined),
    chunk,
    mustChunk: chunk,
    // regex.go
    mustRegexMatch: (re, s) => regexp(re).test(str(s)),
    mustRegexFind: (re, s) => regexp(re).exec(str(s))?.[0] ?? '',
    regexReplaceAllLiteral,
    mustRegexReplaceAllLiteral: regexReplaceAllLiteral,
    // url.go
    urlParse: (v) => urlParse(str(v)),
    urlJoin: (d) => urlJoin(d),
  };
}
