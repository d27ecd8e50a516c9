import { compileGoRegexp } from '../../config/dynamic/go-regexp.ts';
import { parseGoDuration } from '../../core/go-duration.ts';
import { ipBlockContains, parseIpBlock } from '../../core/ip.ts';
import type { RequestHead } from '../../core/request.ts';
import { escapePath, isCleanPath } from '../path.ts';
import type { Directive } from './parse.ts';
import { decodedPath, interpolate, type Vars } from './variables.ts';

/*
 * The directives of a snippet as Traefik's Snippet middleware builds and runs them
 * (pkg/middlewares/ingressnginx/snippet/action.go buildActions, directive_context.go): each
 * block's directives become actions run in order at request time (`set`, `if`, `return`,
 * `rewrite`, `allow`/`deny`), "post actions" run once every block ran (the header directives),
 * and `location` blocks of the server snippet chosen as nginx chooses them. A directive Traefik
 * does not support, or one in a context nginx refuses, is an error: the middleware is not built
 * and its router is left out, as Traefik's New returns an error.
 */

const SERVER = 'server';
const LOCATION = 'location';
const IF = 'if';
const IF_IN_LOCATION = 'if_in_location';

/** Traefik's directiveContexts (directive_context.go). */
const CONTEXTS: Readonly<Record<string, readonly string[]>> = {
  add_header: [SERVER, LOCATION, IF_IN_LOCATION],
  more_set_headers: [SERVER, LOCATION, IF],
  more_clear_headers: [SERVER, LOCATION, IF],
  proxy_set_header: [SERVER, LOCATION],
  more_set_input_headers: [SERVER, LOCATION, IF],
  more_clear_input_headers: [SERVER, LOCATION, IF],
  if: [SERVER, LOCATION],
  set: [SERVER, LOCATION, IF],
  return: [SERVER, LOCATION, IF],
  rewrite: [SERVER, LOCATION, IF],
  location: [SERVER],
  allow: [SERVER, LOCATION, IF],
  deny: [SERVER, LOCATION, IF],
  proxy_hide_header: [SERVER, LOCATION],
  expires: [SERVER, LOCATION, IF_IN_LOCATION],
};

/** Statuses `add_header` applies to without `always` (nginx's list, as Traefik's addHeaderStatusCodes). */
const ADD_HEADER_STATUSES = new Set([200, 201, 204, 206, 301, 302, 303, 304, 307, 308]);
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

/** A response field edit, resolved at request time and applied to the response head. */
export interface ResponseOp {
  /** 'set' replaces, 'add' appends, 'clear' removes (a name ending in `*`: every field with that prefix). */
  readonly kind: 'set' | 'add' | 'clear';
  readonly name: string;
  readonly lname: string;
  readonly prefix: boolean;
  readonly value: string;
  /** Only for these statuses (-s, add_header without always); null: any. */
  readonly statuses: ReadonlySet<number> | null;
  /** Only for these base media types, lowercase (-t); null: any. */
  readonly types: readonly string[] | null;
  /** -r: only when the field is already there. */
  readonly restrict: boolean;
}

/** What one request's run of the snippet decided. */
export class RunState {
  vars: Vars | null = null;
  status = 0;
  body = '';
  redirect = '';
  stopCurrent = false;
  stopAll = false;
  /** Response edits in order; null until one is made. */
  response: ResponseOp[] | null = null;

  setVar(name: string, v: string): void {
    if (this.vars === null) this.vars = new Map();
    this.vars.set(name, v);
  }

  respond(op: ResponseOp): void {
    if (this.response === null) this.response = [];
    this.response.push(op);
  }
}

type Action = (req: RequestHead, st: RunState, frame: Frame) => boolean;
/** An allow/deny rule: true when it matches the client (it decides). */
export interface AccessRule {
  readonly allow: boolean;
  matches(clientIp: string): boolean;
}
/** A post action: header directives, run after every block. */
type Post = (req: RequestHead, st: RunState) => void;

/** A block's actions, as Traefik's actions struct. */
export interface Block {
  readonly actions: readonly Action[];
  /** Directives nginx does not inherit into a block that has its own (add_header, proxy_set_header). */
  readonly addHeader: readonly Post[];
  readonly proxySetHeader: readonly Post[];
  /** The headers-more directives and the others that add up across blocks. */
  readonly mergeable: readonly Post[];
  /** allow/deny: nginx's access phase, after the rewrite phase (Traefik's PhaseCollector.Access). */
  readonly access: readonly AccessRule[];
  readonly locations: readonly Location[];
}

interface Location {
  readonly kind: 'exact' | 'prefix' | 'preferred' | 'regex';
  readonly path: string;
  readonly re: RegExp | null;
  readonly block: Block;
}

/** Traefik's actionContext of one block run: its own non-mergeable lists, the mergeable ones so far. */
export class Frame {
  addHeader: readonly Post[] | null;
  proxySetHeader: readonly Post[] | null;
  mergeable: Post[];
  access: AccessRule[];

  constructor(b: Block | null) {
    this.addHeader = b !== null && b.addHeader.length > 0 ? b.addHeader : null;
    this.proxySetHeader = b !== null && b.proxySetHeader.length > 0 ? b.proxySetHeader : null;
    this.mergeable = b === null ? [] : [...b.mergeable];
    this.access = b === null ? [] : [...b.access];
  }

  /**
   * A nested block (`if`, `location`) of the same snippet, as Traefik's PhaseCollector collects it
   * (collector.go): its own add_header replace the outer ones (the deeper block wins), its
   * proxy_set_header, allow/deny and other directives add to them.
   */
  merge(sub: Frame): void {
    if (sub.addHeader !== null) this.addHeader = sub.addHeader;
    if (sub.proxySetHeader !== null)
      this.proxySetHeader =
        this.proxySetHeader === null ? sub.proxySetHeader : [...this.proxySetHeader, ...sub.proxySetHeader];
    for (const p of sub.mergeable) this.mergeable.push(p);
    for (const a of sub.access) this.access.push(a);
  }

  /**
   * The configuration snippet's collection over the server snippet's (Traefik's snippet.go
   * ServeHTTP): its add_header, proxy_set_header and allow/deny, when it has any, replace the
   * server snippet's whole; the other directives of both apply.
   */
  override(location: Frame): void {
    if (location.addHeader !== null) this.addHeader = location.addHeader;
    if (location.proxySetHeader !== null) this.proxySetHeader = location.proxySetHeader;
    if (location.access.length > 0) this.access = location.access;
    for (const p of location.mergeable) this.mergeable.push(p);
  }
}

/**
 * Runs `b` within `parent` (Traefik's actions.Execute): its actions in order until one answers
 * (true) or a rewrite stops the block; a server block then runs the location nginx would choose.
 */
export function execute(b: Block | null, req: RequestHead, st: RunState, parent: Frame): boolean {
  if (b === null) return false;
  const frame = new Frame(b);
  let finish = false;
  for (const act of b.actions) {
    finish = act(req, st, frame);
    if (finish || st.stopCurrent || st.stopAll) break;
  }
  if (!finish && !st.stopCurrent && !st.stopAll && b.locations.length > 0) {
    const loc = chooseLocation(b.locations, decodedPath(req));
    if (loc !== undefined) finish = execute(loc.block, req, st, frame);
  }
  parent.merge(frame);
  return finish;
}

/**
 * nginx's access phase over the allow/deny rules of the blocks that ran, in order: the first that
 * matches the client decides; a deny is answered 403 (Traefik's createAccessAction, collected by
 * its PhaseCollector and run after the rewrite phase). True when denied.
 */
export function denied(frame: Frame, req: RequestHead, st: RunState): boolean {
  for (const rule of frame.access) {
    if (!rule.matches(req.clientIp)) continue;
    if (rule.allow) return false;
    st.status = 403;
    st.body = '403 Forbidden';
    return true;
  }
  return false;
}

/**
 * The collected directives in Traefik's phase order (snippet.go ServeHTTP, phases.go): the header
 * directives, among them the input filter (more_set_input_headers, more_clear_input_headers),
 * then the content phase (proxy_set_header), so a proxy_set_header of a field wins over a
 * more_set_input_headers of it, as in nginx (Traefik's older executePostActions ran it first).
 * `deferProxySet`: proxy_set_header left for runProxySet (after an auth request, Traefik's
 * content phase follows its ACCESS_PHASE).
 */
export function runPosts(frame: Frame, req: RequestHead, st: RunState, deferProxySet = false): void {
  if (frame.addHeader !== null) for (const p of frame.addHeader) p(req, st);
  for (const p of frame.mergeable) p(req, st);
  if (!deferProxySet) runProxySet(frame, req, st);
}

/** The proxy_set_header directives of a run (Traefik's CONTENT_PHASE). */
export function runProxySet(frame: Frame, req: RequestHead, st: RunState): void {
  if (frame.proxySetHeader !== null) for (const p of frame.proxySetHeader) p(req, st);
}

/**
 * nginx's location choice (as Traefik's phases.go): an exact match; else the longest prefix,
 * unless it is `^~`, gives way to the first regex that matches.
 */
function chooseLocation(locs: readonly Location[], path: string): Location | undefined {
  let longest: Location | undefined;
  for (const l of locs) {
    if (l.kind === 'exact') {
      if (path === l.path) return l;
    } else if ((l.kind === 'prefix' || l.kind === 'preferred') && path.startsWith(l.path)) {
      if (longest === undefined || l.path.length > longest.path.length) longest = l;
    }
  }
  if (longest?.kind === 'preferred') return longest;
  for (const l of locs) if (l.kind === 'regex' && l.re!.test(path)) return l;
  return longest;
}

function fail(d: Directive, message: string): never {
  throw new Error(`line ${d.line}: ${d.name}: ${message}`);
}

/** Go's strconv.Atoi accepts a sign. */
function atoi(s: string): number | undefined {
  return /^[+-]?\d{1,9}$/.test(s) ? Number(s) : undefined;
}

function goRegexp(d: Directive, src: string, insensitive: boolean): RegExp {
  const r = compileGoRegexp(insensitive ? `(?i)${src}` : src);
  if ('error' in r) fail(d, r.error);
  return r.regexp;
}

/** Traefik's isAllowedInContext. */
function checkContext(d: Directive, ctx: string, parent: string): void {
  const allowed = CONTEXTS[d.name];
  if (allowed === undefined) fail(d, `unsupported directive "${d.name}"`);
  if (allowed.includes(ctx)) return;
  if (ctx === IF && parent === LOCATION && allowed.includes(IF_IN_LOCATION)) return;
  fail(d, `not allowed in a ${ctx} block`);
}

/**
 * Builds a block's actions (Traefik's buildActions). `ctx` is the block's kind (server, location,
 * if), `parent` the kind of the block around it. Throws with the reason when Traefik refuses it.
 */
export function buildBlock(ds: readonly Directive[], ctx: string, parent = ''): Block {
  const actions: Action[] = [];
  const addHeader: Post[] = [];
  const proxySetHeader: Post[] = [];
  const mergeable: Post[] = [];
  const access: AccessRule[] = [];
  const locations: Location[] = [];
  for (const d of ds) {
    checkContext(d, ctx, parent);
    const wantsBlock = d.name === 'if' || d.name === 'location';
    if (wantsBlock && d.block === null) fail(d, 'a block is required');
    if (!wantsBlock && d.block !== null) fail(d, 'takes no block');
    switch (d.name) {
      case 'add_header':
        addHeader.push(addHeaderPost(d));
        break;
      case 'more_set_headers':
        mergeable.push(moreSetPost(d, false));
        break;
      case 'more_set_input_headers':
        mergeable.push(moreSetPost(d, true));
        break;
      case 'more_clear_headers':
        mergeable.push(moreClearPost(d, false));
        break;
      case 'more_clear_input_headers':
        mergeable.push(moreClearPost(d, true));
        break;
      case 'proxy_set_header':
        proxySetHeader.push(proxySetHeaderPost(d));
        break;
      case 'proxy_hide_header':
        mergeable.push(proxyHideHeaderPost(d));
        break;
      case 'expires':
        mergeable.push(expiresPost(d));
        break;
      case 'if':
        actions.push(ifAction(d, ctx));
        break;
      case 'set':
        actions.push(setAction(d));
        break;
      case 'return':
        actions.push(returnAction(d));
        break;
      case 'rewrite':
        actions.push(rewriteAction(d));
        break;
      case 'allow':
      case 'deny':
        access.push(accessRule(d));
        break;
      case 'location':
        locations.push(location(d));
        break;
    }
  }
  return { actions, addHeader, proxySetHeader, mergeable, access, locations };
}

// ---- header directives --------------------------------------------------------------------

function op(
  kind: ResponseOp['kind'],
  name: string,
  value: string,
  flags: Flags | null,
  statuses: ReadonlySet<number> | null = null,
): ResponseOp {
  const prefix = kind === 'clear' && name.endsWith('*');
  const n = prefix ? name.slice(0, -1) : name;
  return {
    kind,
    name: n,
    lname: n.toLowerCase(),
    prefix,
    value,
    statuses: flags?.statuses ?? statuses,
    types: flags?.types ?? null,
    restrict: flags?.restrict ?? false,
  };
}

function addHeaderPost(d: Directive): Post {
  if (d.args.length < 2) fail(d, 'add_header directive must have at least 2 parameters (header and value)');
  const [name, value] = d.args as [string, string];
  // Without `always`, only on nginx's success and redirect statuses (Traefik's createAddHeaderAction).
  const statuses = d.args[2] === 'always' ? null : ADD_HEADER_STATUSES;
  return (req, st) => st.respond(op('add', name, interpolate(value, req, st.vars), null, statuses));
}

interface Flags {
  readonly statuses: ReadonlySet<number> | null;
  readonly types: readonly string[] | null;
  readonly append: boolean;
  readonly restrict: boolean;
}

/** Traefik's parseDirectiveFlags: -s (output only), -t, -a, -r; the rest are the operands. */
function parseFlags(d: Directive, input: boolean): [Flags, string[]] {
  const statuses: number[] = [];
  const types: string[] = [];
  let append = false;
  let restrict = false;
  const rest: string[] = [];
  for (let i = 0; i < d.args.length; i++) {
    const a = d.args[i]!;
    if (a === '-s') {
      if (input) fail(d, 'flag -s is not supported for this directive');
      i++;
      for (const s of (d.args[i] ?? '').split(/\s+/)) {
        const code = atoi(s);
        if (code !== undefined && code > 0) statuses.push(code);
      }
    } else if (a === '-t') {
      i++;
      for (const t of (d.args[i] ?? '').split(/\s+/)) if (t !== '') types.push(t.toLowerCase());
    } else if (a === '-a') append = true;
    else if (a === '-r') restrict = true;
    else rest.push(a);
  }
  const flags: Flags = {
    statuses: statuses.length > 0 ? new Set(statuses) : null,
    types: types.length > 0 ? types : null,
    append,
    restrict,
  };
  return [flags, rest];
}

/** Traefik's matchesContentTypeFilter: the base media type, case-insensitively. */
export function typeMatches(types: readonly string[] | null, contentType: string | undefined): boolean {
  if (types === null) return true;
  const semi = (contentType ?? '').indexOf(';');
  const base = (semi === -1 ? (contentType ?? '') : contentType!.slice(0, semi)).trim().toLowerCase();
  return types.includes(base);
}

/** Traefik's parseMoreSetParams: `Name: value`; `Name:` or `Name` alone clears the field. */
function moreSetOps(d: Directive, operands: readonly string[]): [string, string | null][] {
  if (operands.length === 0) fail(d, `${d.name} directive must have at least 1 parameter`);
  return operands.map((p): [string, string | null] => {
    if (p === '') fail(d, `${d.name} directive has an empty parameter`);
    const colon = p.indexOf(':');
    const key = (colon === -1 ? p : p.slice(0, colon)).trim();
    if (key === '') fail(d, `${d.name} directive has an empty header name`);
    const value = colon === -1 ? '' : p.slice(colon + 1).trim();
    return [key, value === '' ? null : value];
  });
}

function moreSetPost(d: Directive, input: boolean): Post {
  const [flags, operands] = parseFlags(d, input);
  const ops = moreSetOps(d, operands);
  if (input)
    return (req, st) => {
      // -t on the request side tests the request's Content-Type.
      if (!typeMatches(flags.types, req.headers.get('content-type'))) return;
      for (const [name, v] of ops) {
        const lname = name.toLowerCase();
        if (lname === 'host') continue; // Go never sends req.Header's Host (see headerModifier).
        if (v === null) {
          req.headers.delete(lname);
          continue;
        }
        if (flags.restrict && (req.headers.get(lname) ?? '') === '') continue;
        const value = interpolate(v, req, st.vars);
        if (flags.append) req.headers.append(name, value);
        else req.headers.set(name, value);
      }
    };
  return (req, st) => {
    for (const [name, v] of ops) {
      if (v === null) st.respond(op('clear', name, '', flags));
      else st.respond(op(flags.append ? 'add' : 'set', name, interpolate(v, req, st.vars), flags));
    }
  };
}

function moreClearPost(d: Directive, input: boolean): Post {
  const [flags, operands] = parseFlags(d, input);
  if (operands.length === 0) fail(d, `${d.name} directive must have at least 1 header name`);
  for (const n of operands) {
    if (n === '') fail(d, `${d.name} directive has an empty header name`);
    if (n === '*') fail(d, `${d.name} directive has an invalid wildcard pattern "*"`);
  }
  if (input) {
    const ops = operands.map((n) => op('clear', n, '', null));
    return (req) => {
      if (!typeMatches(flags.types, req.headers.get('content-type'))) return;
      for (const o of ops) {
        if (o.lname === 'host') continue;
        if (o.prefix) req.headers.deleteWhere((l) => l.startsWith(o.lname) && l !== 'host');
        else req.headers.delete(o.lname);
      }
    };
  }
  const ops = operands.map((n) => op('clear', n, '', flags));
  return (_req, st) => {
    for (const o of ops) st.respond(o);
  };
}

function proxySetHeaderPost(d: Directive): Post {
  if (d.args.length < 2) fail(d, 'proxy_set_header directive requires 2 parameters (header and value)');
  const [name, value] = d.args as [string, string];
  const lname = name.toLowerCase();
  // Go sends req.Host, never req.Header's Host: Traefik's proxy_set_header Host changes nothing.
  if (lname === 'host') return () => {};
  return (req, st) => {
    const v = interpolate(value, req, st.vars);
    if (v === '') req.headers.delete(lname);
    else req.headers.set(name, v);
  };
}

function proxyHideHeaderPost(d: Directive): Post {
  if (d.args.length === 0) fail(d, 'proxy_hide_header directive requires 1 parameter (header name)');
  const o: ResponseOp = {
    ...op('clear', d.args[0]!, '', null),
    prefix: false,
    lname: d.args[0]!.toLowerCase(),
  };
  return (_req, st) => st.respond(o);
}

const HTTP_DATE = (ms: number): string => new Date(ms).toUTCString();

/** Traefik's parseNginxDuration, quirks included (`expires 30;` is refused, `expires 5;` is 5s). */
function nginxDuration(d: Directive, s: string): number {
  if (s === '') fail(d, 'empty duration');
  let neg = false;
  let t = s;
  if (t.startsWith('-')) {
    neg = true;
    t = t.slice(1);
  }
  const sign = neg ? -1 : 1;
  const go = goDuration(t);
  if (go !== undefined) return sign * go;
  if (t.length > 1) {
    const num = atoi(t.slice(0, -1));
    if (num !== undefined) {
      const unit = { d: 86400_000, M: 30 * 86400_000, y: 365 * 86400_000 }[t.slice(-1)];
      if (unit === undefined)
        fail(d, `invalid expires value "${s}": unsupported duration suffix "${t.slice(-1)}"`);
      return sign * num * unit;
    }
  }
  const n = atoi(t);
  if (n !== undefined) return sign * n * 1000;
  return fail(d, `invalid expires value "${s}"`);
}

/** Go's time.ParseDuration, in milliseconds (undefined when Go refuses it). */
function goDuration(s: string): number | undefined {
  try {
    return Number(parseGoDuration(s)) / 1e6;
  } catch {
    return undefined;
  }
}

/** Traefik's createExpiresAction: Expires and Cache-Control on the response. */
function expiresPost(d: Directive): Post {
  if (d.args.length === 0) fail(d, 'expires directive requires 1 parameter');
  const v = d.args[0]!;
  const set = (st: RunState, name: string, value: string): void => st.respond(op('set', name, value, null));
  if (v === 'off') return () => {};
  if (v === 'epoch')
    return (_req, st) => {
      set(st, 'Expires', 'Thu, 01 Jan 1970 00:00:01 GMT');
      set(st, 'Cache-Control', 'no-cache');
    };
  if (v === 'max')
    return (_req, st) => {
      set(st, 'Expires', 'Thu, 31 Dec 2037 23:55:55 GMT');
      set(st, 'Cache-Control', 'max-age=315360000');
    };
  const ms = nginxDuration(d, v);
  return (_req, st) => {
    set(st, 'Expires', HTTP_DATE(Date.now() + ms));
    set(st, 'Cache-Control', ms < 0 ? 'no-cache' : `max-age=${Math.trunc(ms / 1000)}`);
  };
}

// ---- request-time directives -------------------------------------------------------------

function setAction(d: Directive): Action {
  if (d.args.length < 2) fail(d, 'set directive requires 2 parameters (variable and value)');
  const [name, value] = d.args as [string, string];
  return (req, st) => {
    st.setVar(name, interpolate(value, req, st.vars));
    return false;
  };
}

/** Traefik's buildCondition: `$v`, `a = b`, `a != b`, `a ~ re`, `!~`, `~*`, `!~*`. */
function condition(d: Directive): (req: RequestHead, st: RunState) => boolean {
  // One parenthesis each side, as nginx strips them (Traefik trims every `(`/`)` at both ends,
  // which breaks `~ (a|b))`: refused there, read as nginx here).
  const parts = d.args.slice();
  if (parts.length > 0) {
    parts[0] = parts[0]!.replace(/^\(/, '');
    parts[parts.length - 1] = parts[parts.length - 1]!.replace(/\)$/, '');
  }
  const words = parts.filter((p) => p !== '');
  if (words.length === 0) fail(d, 'if directive requires a condition');
  if (words.length === 1) {
    const expr = words[0]!;
    return (req, st) => {
      const v = interpolate(expr, req, st.vars);
      // An unknown variable stays as written: undefined, false.
      return v !== expr && v !== '' && v !== '0';
    };
  }
  if (words.length < 3) fail(d, `invalid condition format: ${words.join(' ')}`);
  const lhs = words[0]!;
  const operator = words[1]!;
  const rhs = words[2]!;
  switch (operator) {
    case '=':
      return (req, st) => interpolate(lhs, req, st.vars) === interpolate(rhs, req, st.vars);
    case '!=':
      return (req, st) => interpolate(lhs, req, st.vars) !== interpolate(rhs, req, st.vars);
    case '~':
    case '~*': {
      const re = goRegexp(d, rhs, operator === '~*');
      return (req, st) => {
        const m = re.exec(interpolate(lhs, req, st.vars));
        if (m === null) return false;
        for (let i = 1; i < m.length; i++) st.setVar(`$${i}`, m[i] ?? '');
        return true;
      };
    }
    case '!~':
    case '!~*': {
      const re = goRegexp(d, rhs, operator === '!~*');
      return (req, st) => !re.test(interpolate(lhs, req, st.vars));
    }
    default:
      return fail(d, `unsupported operator in condition: ${operator}`);
  }
}

function ifAction(d: Directive, ctx: string): Action {
  const test = condition(d);
  const block = buildBlock(d.block!, IF, ctx);
  return (req, st, frame) => (test(req, st) ? execute(block, req, st, frame) : false);
}

function returnAction(d: Directive): Action {
  if (d.args.length === 0) fail(d, 'return directive requires parameters');
  const first = d.args[0]!;
  const code = atoi(first);
  if (code === undefined) {
    // `return URL;`: a 302 to it.
    return (req, st) => {
      st.status = 302;
      st.redirect = interpolate(first, req, st.vars);
      return true;
    };
  }
  if (code < 100 || code > 999) fail(d, `invalid return code ${first}`);
  const text = d.args[1] ?? '';
  if (REDIRECT_CODES.has(code))
    return (req, st) => {
      st.status = code;
      if (text !== '') st.redirect = interpolate(text, req, st.vars);
      return true;
    };
  return (req, st) => {
    st.status = code;
    if (text !== '') st.body = interpolate(text, req, st.vars);
    return true;
  };
}

/** Traefik's createRewriteAction. */
function rewriteAction(d: Directive): Action {
  if (d.args.length < 2) fail(d, 'rewrite directive requires at least 2 parameters (regex and replacement)');
  const flag = d.args[2] ?? '';
  if (!['', 'last', 'break', 'redirect', 'permanent'].includes(flag))
    fail(d, `rewrite directive has invalid flag "${flag}"`);
  const re = goRegexp(d, d.args[0]!, false);
  let replacement = d.args[1]!;
  const noQuery = replacement.endsWith('?');
  if (noQuery) replacement = replacement.slice(0, -1);
  const urlRedirect =
    replacement.startsWith('http://') ||
    replacement.startsWith('https://') ||
    replacement.startsWith('$scheme');
  return (req, st) => {
    const m = re.exec(decodedPath(req));
    if (m === null) return false;
    // Capture groups first ($1-$9), then the variables.
    const result = interpolate(
      replacement.replace(/\$([1-9])/g, (ref, i: string) => {
        const idx = Number(i);
        return idx < m.length ? (m[idx] ?? '') : ref;
      }),
      req,
      st.vars,
    );
    if (flag === 'redirect' || flag === 'permanent' || urlRedirect) {
      st.status = flag === 'permanent' ? 301 : 302;
      st.redirect = result;
      return true;
    }
    const q = result.indexOf('?');
    const path = escapePath(q === -1 ? result : result.slice(0, q));
    // A result with dot segments (`/foo../bar` through `/$1`) is refused with 400, as Traefik
    // refuses a rewritten path that is not clean (snippet_test.go "dot-segment traversal").
    if (!isCleanPath(path)) {
      st.status = 400;
      st.body = 'Bad Request\n';
      return true;
    }
    req.path = path;
    if (q !== -1) req.query = result.slice(q + 1);
    else if (noQuery) req.query = '';
    if (flag === 'last') st.stopCurrent = true;
    else if (flag === 'break') st.stopAll = true;
    return false;
  };
}

/** Traefik's createAccessAction: an address, a CIDR or `all`. */
function accessRule(d: Directive): AccessRule {
  if (d.args.length === 0) fail(d, `${d.name} directive requires 1 parameter`);
  const allow = d.name === 'allow';
  const addr = d.args[0]!;
  if (addr === 'all') return { allow, matches: () => true };
  const block = parseIpBlock(addr);
  if (block === undefined) fail(d, `invalid IP address or CIDR in ${d.name} directive: "${addr}"`);
  const scratch = new Uint16Array(8);
  return { allow, matches: (ip) => ipBlockContains(block, ip, scratch) };
}

function location(d: Directive): Location {
  if (d.args.length === 0) fail(d, 'location directive requires a path pattern');
  let pattern = d.args.length === 2 ? d.args[0]! + d.args[1]! : d.args[0]!;
  const block = buildBlock(d.block!, LOCATION, SERVER);
  if (pattern.startsWith('~*'))
    return { kind: 'regex', path: '', re: goRegexp(d, pattern.slice(2).trim(), true), block };
  if (pattern.startsWith('~'))
    return { kind: 'regex', path: '', re: goRegexp(d, pattern.slice(1).trim(), false), block };
  if (pattern.startsWith('=')) return { kind: 'exact', path: pattern.slice(1).trim(), re: null, block };
  if (pattern.startsWith('^~')) {
    pattern = pattern.slice(2).trim();
    return { kind: 'preferred', path: pattern, re: null, block };
  }
  return { kind: 'prefix', path: pattern, re: null, block };
}
