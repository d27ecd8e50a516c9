/**
 * One closure per matcher, built once per router build. Closures capture only precomputed
 * values; per request they compare strings and allocate nothing on the common paths.
 */

import { ipCheckerSuffix } from '../../core/go-netip.ts';
import { ipBlockContains, parseIpBlock } from '../../core/ip.ts';
import { compileRe2, goErrorSuffix, type Re2Result } from '../../core/re2/index.ts';
import type { RequestHead } from '../../core/request.ts';
import type { MatcherNode, RuleArg, RuleError } from './ast.ts';
import { normalizeRuleHost } from './hints.ts';
import { firstQueryValue, someQueryValue } from './query.ts';
import type { RoutingPathCache } from './routing-path.ts';
import { byteStringToText, isAscii, toByteString } from './text.ts';

export type RuleMatcher = (req: RequestHead) => boolean;

/** State shared by every rule compiled for one router. */
export interface CompileContext {
  readonly routingPath: RoutingPathCache;
  /** Translated regexes by pattern: the same regex in many rules is translated once. */
  readonly regexps: Map<string, Re2Result>;
  /**
   * Matchers by name and arguments: 9,000 rules saying PathPrefix(`/api`) share one closure,
   * which stays hot in the CPU cache.
   */
  readonly matchers: Map<string, { ok: true; match: RuleMatcher }>;
  /**
   * Static `hostResolver.cnameFlattening`: a `Host` matcher also matches the name the request's
   * host resolves to through its CNAME chain (RequestHead.flatHost), as Traefik's host matchers
   * read requestdecorator.GetCNAMEFlatten (pkg/muxer/http/matcher.go host, matcher_v2.go hostV2).
   */
  readonly cnameFlattening?: boolean;
}

export type MatcherResult = { ok: true; match: RuleMatcher } | { ok: false; error: RuleError };

export type HostPredicate = (host: string) => boolean;
export type HostPredicateResult = { ok: true; test: HostPredicate } | { ok: false; error: RuleError };

function fail(message: string, offset: number): MatcherResult {
  return { ok: false, error: { message, offset } };
}

function regexp(ctx: CompileContext, name: string, arg: RuleArg): RegExp | RuleError {
  let r = ctx.regexps.get(arg.value);
  if (r === undefined) {
    r = compileRe2(arg.value);
    ctx.regexps.set(arg.value, r);
  }
  if (r.ok) return r.regexp;
  // Within a backtick string, pattern index i is at rule offset `offset + 1 + i`.
  const offset = arg.raw ? arg.offset + 1 + r.index : arg.offset;
  return {
    message: `${name}: ${r.message} in regular expression ${JSON.stringify(arg.value)}${goErrorSuffix(r)}`,
    offset,
  };
}

function hostFail(message: string, offset: number): HostPredicateResult {
  return { ok: false, error: { message, offset } };
}

function hostPredicate(arg: RuleArg): HostPredicateResult {
  if (!isAscii(arg.value)) {
    return hostFail(
      `Host: non-ASCII characters are not allowed in ${JSON.stringify(arg.value)}; use the punycode form`,
      arg.offset,
    );
  }
  // Traefik matches `example.com.` and `example.com` alike; the codec already strips the request's dot.
  const host = normalizeRuleHost(arg.value);
  if (host === '*') return { ok: true, test: () => true };
  const star = host.indexOf('*');
  if (star === -1) return { ok: true, test: (h) => h === host };
  if (host.startsWith('**.') && host.indexOf('*', 2) === -1 && host.length > 3) {
    // Traefik v3.8's double wildcard (traefik/traefik#13882, pkg/muxer DomainMatchHostExpression):
    // one or more labels before the suffix, never the suffix itself.
    const dotSuffix = host.slice(2);
    return { ok: true, test: (h) => h.length > dotSuffix.length && h.endsWith(dotSuffix) };
  }
  if (star !== 0 || host[1] !== '.' || host.indexOf('*', 1) !== -1 || host.length < 3) {
    return hostFail(
      `Host: a wildcard must be the whole first label, as in "*.example.com" or "**.example.com"; got ${JSON.stringify(arg.value)}`,
      arg.offset,
    );
  }
  const parent = host.slice(2);
  const parentLen = parent.length;
  // Exactly one non-empty label before the parent domain.
  return {
    ok: true,
    test: (h) => {
      const dot = h.indexOf('.');
      return dot > 0 && h.length - dot - 1 === parentLen && h.endsWith(parent);
    },
  };
}

/** Host and HostRegexp as functions of the host alone, so that a known host folds them away. */
export function compileHostPredicate(node: MatcherNode, ctx: CompileContext): HostPredicateResult {
  const a0 = node.args[0]!;
  if (node.name === 'Host') return hostPredicate(a0);
  if (!isAscii(a0.value)) return hostFail('HostRegexp: non-ASCII characters are not allowed', a0.offset);
  const re = regexp(ctx, 'HostRegexp', a0);
  if (!(re instanceof RegExp)) return { ok: false, error: re };
  // Traefik's HostRegexp sees an IPv6 literal without its brackets (requestdecorator parseHost);
  // our request host keeps them. Only such hosts are sliced.
  return { ok: true, test: (h) => re.test(h.charCodeAt(0) === 0x5b /* [ */ ? h.slice(1, -1) : h) };
}

function headerValues(req: RequestHead, lname: string, value: string): boolean {
  const names = req.headers.lnames;
  const values = req.headers.values;
  for (let i = 0; i < names.length; i++) if (names[i] === lname && values[i] === value) return true;
  return false;
}

function headerRegexp(req: RequestHead, lname: string, re: RegExp): boolean {
  const names = req.headers.lnames;
  const values = req.headers.values;
  for (let i = 0; i < names.length; i++) {
    if (names[i] === lname && re.test(byteStringToText(values[i]!))) return true;
  }
  return false;
}

/** A matcher's closure, shared with every other rule that has the same matcher. */
export function compileMatcher(node: MatcherNode, ctx: CompileContext): MatcherResult {
  let key = node.name;
  for (const a of node.args) key += `\0${a.value}`;
  const cached = ctx.matchers.get(key);
  if (cached !== undefined) return cached;
  const r = create(node, ctx);
  // Errors are not cached: their offsets point into the rule being compiled.
  if (r.ok) ctx.matchers.set(key, r);
  return r;
}

function create(node: MatcherNode, ctx: CompileContext): MatcherResult {
  const a0 = node.args[0]!;
  const a1 = node.args[1];
  const rp = ctx.routingPath;
  switch (node.name) {
    case 'Host':
    case 'HostRegexp': {
      const p = compileHostPredicate(node, ctx);
      if (!p.ok) return p;
      const test = p.test;
      // Traefik's Host with CNAME flattening: the request's host or its flattened name, in any
      // case (strings.EqualFold; both are lowercase here). HostRegexp never reads the flattened name.
      if (ctx.cnameFlattening === true && node.name === 'Host') {
        return {
          ok: true,
          match: (req) => {
            if (test(req.host)) return true;
            const flat = req.flatHost;
            return flat !== undefined && flat !== req.host && test(flat);
          },
        };
      }
      return { ok: true, match: (req) => test(req.host) };
    }
    case 'Path':
    case 'PathPrefix': {
      if (!a0.value.startsWith('/')) {
        return fail(`${node.name}: the path must start with "/"; got ${JSON.stringify(a0.value)}`, a0.offset);
      }
      const p = toByteString(a0.value);
      if (node.name === 'Path') return { ok: true, match: (req) => rp.get(req.path) === p };
      return { ok: true, match: (req) => rp.get(req.path).startsWith(p) };
    }
    case 'PathRegexp': {
      const re = regexp(ctx, 'PathRegexp', a0);
      if (!(re instanceof RegExp)) return { ok: false, error: re };
      return { ok: true, match: (req) => re.test(byteStringToText(rp.get(req.path))) };
    }
    case 'Method': {
      const m = a0.value.toUpperCase();
      return { ok: true, match: (req) => req.method === m };
    }
    case 'Header': {
      const lname = a0.value.toLowerCase();
      const value = toByteString(a1!.value);
      return { ok: true, match: (req) => headerValues(req, lname, value) };
    }
    case 'HeaderRegexp': {
      const lname = a0.value.toLowerCase();
      const re = regexp(ctx, 'HeaderRegexp', a1!);
      if (!(re instanceof RegExp)) return { ok: false, error: re };
      return { ok: true, match: (req) => headerRegexp(req, lname, re) };
    }
    case 'Query':
    case 'QueryRegexp': {
      const key = toByteString(a0.value);
      let test: (v: string) => boolean;
      if (a1 === undefined) {
        test = (v) => v === '';
      } else if (node.name === 'Query') {
        const value = toByteString(a1.value);
        test = (v) => v === value;
      } else {
        const re = regexp(ctx, 'QueryRegexp', a1);
        if (!(re instanceof RegExp)) return { ok: false, error: re };
        test = (v) => re.test(byteStringToText(v));
      }
      return { ok: true, match: (req) => req.query !== '' && someQueryValue(req.query, key, test) };
    }
    case 'HostRegexpV2Port': {
      // gorilla/mux keeps the request's port when the host template has a `:` (wildcardHostPort).
      const re = regexp(ctx, 'HostRegexp', a0);
      if (!(re instanceof RegExp)) return { ok: false, error: re };
      return {
        ok: true,
        match: (req) => re.test(req.hostPort === '' ? req.host : `${req.host}:${req.hostPort}`),
      };
    }
    case 'QueryV2': {
      // Traefik v2's Query (gorilla/mux Queries): the key's first value only.
      const key = toByteString(a0.value);
      const value = toByteString(a1!.value);
      return { ok: true, match: (req) => req.query !== '' && firstQueryValue(req.query, key) === value };
    }
    case 'QueryV2Regexp': {
      // gorilla/mux matches its template's regexp against `key=<first value>`.
      const key = toByteString(a0.value);
      const re = regexp(ctx, 'Query', a1!);
      if (!(re instanceof RegExp)) return { ok: false, error: re };
      return {
        ok: true,
        match: (req) => {
          if (req.query === '') return false;
          const v = firstQueryValue(req.query, key);
          return v !== undefined && re.test(byteStringToText(`${key}=${v}`));
        },
      };
    }
    case 'ClientIP': {
      const block = parseIpBlock(a0.value);
      if (block === undefined) {
        return fail(
          `ClientIP: ${JSON.stringify(a0.value)} is not an IP address or CIDR block${ipCheckerSuffix(a0.value)}`,
          a0.offset,
        );
      }
      const scratch = new Uint16Array(8);
      return { ok: true, match: (req) => ipBlockContains(block, req.clientIp, scratch) };
    }
  }
}
