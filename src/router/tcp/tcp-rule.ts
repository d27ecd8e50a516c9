/**
 * Traefik v3's TCP rule language (pkg/muxer/tcp/matcher.go): ``HostSNI(`a.com`)`` (``*`` matches
 * every connection, TLS or not; v3.7 allows one wildcard label, ``*.a.com``),
 * ``HostSNIRegexp(`re`)`` (a Go regexp on the SNI), ``ClientIP(`ip|cidr`)``, ``ALPN(`proto`)``,
 * combined with `&&`, `||`, `!` and parentheses, as HTTP rules are (the same lexer and parser).
 */
import { domainToASCII } from 'node:url';
import { ipCheckerSuffix } from '../../core/go-netip.ts';
import { type IpBlock, ipBlockContains, parseIpBlock } from '../../core/ip.ts';
import { compileRe2, goErrorSuffix } from '../../core/re2/index.ts';
import type { RuleAst, RuleError, RuleGrammar } from '../rule/ast.ts';
import { parseRuleWith } from '../rule/parser.ts';
import { parseTcpRuleV2 } from './tcp-rule-v2.ts';

export type TcpMatcherName = 'HostSNI' | 'HostSNIRegexp' | 'ClientIP' | 'ALPN';

export const TCP_GRAMMAR: RuleGrammar<TcpMatcherName> = {
  arity: { HostSNI: [1], HostSNIRegexp: [1], ClientIP: [1], ALPN: [1] },
  hints: {
    Host: 'Host is an HTTP matcher; TCP routers match the TLS server name with HostSNI',
    HostRegexp: 'HostRegexp is an HTTP matcher; use HostSNIRegexp',
    Path: 'Path is an HTTP matcher: a TCP router sees no request',
    PathPrefix: 'PathPrefix is an HTTP matcher: a TCP router sees no request',
    PathRegexp: 'PathRegexp is an HTTP matcher: a TCP router sees no request',
    Method: 'Method is an HTTP matcher: a TCP router sees no request',
    Header: 'Header is an HTTP matcher: a TCP router sees no request',
    HeaderRegexp: 'HeaderRegexp is an HTTP matcher: a TCP router sees no request',
    Query: 'Query is an HTTP matcher: a TCP router sees no request',
    QueryRegexp: 'QueryRegexp is an HTTP matcher: a TCP router sees no request',
  },
};

/** What a TCP rule can see of a connection before any byte is forwarded. */
export interface ConnectionMeta {
  /** The ClientHello's SNI, lower-cased without a trailing dot; '' for none or for cleartext. */
  readonly serverName: string;
  /** The client's address (the PROXY protocol's when one was received from a trusted peer). */
  readonly clientIp: string;
  /** The ClientHello's ALPN list; empty for cleartext. */
  readonly alpn: readonly string[];
}

export type TcpMatcher = (c: ConnectionMeta) => boolean;

export interface CompiledTcpRule {
  readonly match: TcpMatcher;
  /** Exactly ``HostSNI(`*`)``: the catch-all, tried after every specific router (priority -1 by default). */
  readonly catchAll: boolean;
  /** The names of its HostSNI matchers (``*`` included), lower-cased: for certificates and checks. */
  readonly hostSNIs: readonly string[];
  /** It uses a matcher that only a TLS connection can satisfy (HostSNI other than `*`, HostSNIRegexp, ALPN). */
  readonly needsTls: boolean;
}

export type TcpCompileResult = ({ ok: true } & CompiledTcpRule) | { ok: false; error: RuleError };

/** Go's `[[:word:].\-:]` (pkg/muxer/tcp/matcher.go hostOrIP): letters, digits, `_`, `.`, `-`, `:`. */
const HOST_OR_IP = /^[A-Za-z0-9_.:-]+$/;
const ACME_TLS_ALPN = 'acme-tls/1';

class TcpCompileError extends Error {
  readonly error: RuleError;
  constructor(message: string, offset: number) {
    super(message);
    this.error = { message, offset };
  }
}

/** SNI as Traefik compares it (types.CanonicalDomain): lower case, no surrounding space or final dot. */
export function canonicalServerName(name: string | undefined): string {
  if (name === undefined || name === '') return '';
  let n = name.trim().toLowerCase();
  if (n.endsWith('.')) n = n.slice(0, -1);
  return n;
}

function hostSNI(value: string, offset: number): TcpMatcher {
  if (value === '*') return () => true;
  if (value.startsWith('**.')) {
    // Traefik v3.8's double wildcard (traefik/traefik#13882, pkg/muxer DomainMatchHostExpression):
    // one label or more before the suffix, never the suffix itself.
    const suffix = canonicalServerName(value.slice(3));
    if (suffix === '' || suffix.includes('*') || !HOST_OR_IP.test(suffix)) {
      throw new TcpCompileError(
        `HostSNI: a wildcard must be the whole first label, as in "*.example.com" or "**.example.com"`,
        offset,
      );
    }
    const dotSuffix = `.${suffix}`;
    return (c) => c.serverName.length > dotSuffix.length && c.serverName.endsWith(dotSuffix);
  }
  let host = value;
  if (!HOST_OR_IP.test(host.startsWith('*.') ? host.slice(2) : host)) {
    // Traefik converts an internationalised name to punycode before refusing it.
    const ascii = domainToASCII(host);
    if (ascii === '' || !HOST_OR_IP.test(ascii)) {
      throw new TcpCompileError(`HostSNI: ${JSON.stringify(value)} is not a valid host name`, offset);
    }
    host = ascii;
  }
  host = canonicalServerName(host);
  if (host.startsWith('*.')) {
    const parent = host.slice(2);
    if (parent === '' || parent.includes('*')) {
      throw new TcpCompileError(
        `HostSNI: a wildcard must be the whole first label, as in "*.example.com"`,
        offset,
      );
    }
    const len = parent.length;
    // Exactly one non-empty label before the parent (Traefik v3.7's single-label wildcard).
    return (c) => {
      const s = c.serverName;
      const dot = s.indexOf('.');
      return dot > 0 && s.length - dot - 1 === len && s.endsWith(parent);
    };
  }
  if (host.includes('*')) {
    throw new TcpCompileError(
      `HostSNI: a wildcard must be the whole first label, as in "*.example.com"`,
      offset,
    );
  }
  return (c) => c.serverName !== '' && c.serverName === host;
}

function leaf(node: Extract<RuleAst<TcpMatcherName>, { type: 'matcher' }>): TcpMatcher {
  const a = node.args[0]!;
  switch (node.name) {
    case 'HostSNI':
      return hostSNI(a.value, a.offset);
    case 'HostSNIRegexp': {
      // Traefik refuses non-ASCII patterns (an SNI is ASCII: punycode).
      for (let i = 0; i < a.value.length; i++) {
        if (a.value.charCodeAt(i) > 127) {
          throw new TcpCompileError('HostSNIRegexp: non-ASCII characters are not allowed', a.offset);
        }
      }
      const re = compileRe2(a.value);
      if (!re.ok) throw new TcpCompileError(`HostSNIRegexp: ${re.message}${goErrorSuffix(re)}`, a.offset);
      const regexp = re.regexp;
      return (c) => regexp.test(c.serverName);
    }
    case 'ClientIP': {
      const block: IpBlock | undefined = parseIpBlock(a.value);
      if (block === undefined) {
        throw new TcpCompileError(
          `ClientIP: ${JSON.stringify(a.value)} is not an IP address or CIDR block${ipCheckerSuffix(a.value)}`,
          a.offset,
        );
      }
      const scratch = new Uint16Array(8);
      return (c) => ipBlockContains(block, c.clientIp, scratch);
    }
    case 'ALPN': {
      if (a.value === ACME_TLS_ALPN) {
        throw new TcpCompileError(`ALPN: "${ACME_TLS_ALPN}" is reserved for ACME challenges`, a.offset);
      }
      const proto = a.value;
      return (c) => c.alpn.includes(proto);
    }
  }
}

function build(node: RuleAst<TcpMatcherName>): TcpMatcher {
  switch (node.type) {
    case 'matcher':
      return leaf(node);
    case 'not': {
      const inner = build(node.operand);
      return (c) => !inner(c);
    }
    case 'and': {
      const ms = node.children.map(build);
      return (c) => {
        for (let i = 0; i < ms.length; i++) if (!ms[i]!(c)) return false;
        return true;
      };
    }
    case 'or': {
      const ms = node.children.map(build);
      return (c) => {
        for (let i = 0; i < ms.length; i++) if (ms[i]!(c)) return true;
        return false;
      };
    }
  }
}

function collect(node: RuleAst<TcpMatcherName>, hosts: string[], tlsOnly: { v: boolean }): void {
  switch (node.type) {
    case 'matcher':
      if (node.name === 'HostSNI') {
        const h = canonicalServerName(node.args[0]!.value);
        hosts.push(h);
        if (h !== '*') tlsOnly.v = true;
      } else if (node.name !== 'ClientIP') tlsOnly.v = true;
      return;
    case 'not':
      collect(node.operand, hosts, tlsOnly);
      return;
    default:
      for (const c of node.children) collect(c, hosts, tlsOnly);
  }
}

/**
 * Parses and compiles a TCP rule. `syntax`: the router's `ruleSyntax`; `v2` reads Traefik v2's
 * matchers (tcp-rule-v2.ts), any other value v3's, as Traefik's TCP muxer picks its parser.
 */
export function compileTcpRule(rule: string, syntax?: string): TcpCompileResult {
  const parsed = syntax === 'v2' ? parseTcpRuleV2(rule) : parseRuleWith(rule, TCP_GRAMMAR);
  if (!parsed.ok) return parsed;
  const ast = parsed.ast;
  let match: TcpMatcher;
  try {
    match = build(ast);
  } catch (e) {
    if (e instanceof TcpCompileError) return { ok: false, error: e.error };
    throw e;
  }
  const hostSNIs: string[] = [];
  const tlsOnly = { v: false };
  collect(ast, hostSNIs, tlsOnly);
  const catchAll = ast.type === 'matcher' && ast.name === 'HostSNI' && ast.args[0]!.value === '*';
  return { ok: true, match, catchAll, hostSNIs, needsTls: tlsOnly.v };
}

/**
 * Traefik's default TCP priority (pkg/muxer/tcp GetRulePriority): the rule's length, except the
 * catch-all ``HostSNI(`*`)`` alone, which gets -1 so that every other router is tried first.
 */
export function defaultTcpPriority(rule: string, catchAll: boolean): number {
  if (catchAll) return -1;
  const length = Buffer.byteLength(rule, 'utf8');
  if (!rule.includes('**.')) return length;
  // Traefik v3.8 (traefik/traefik#13882, muxer.DoubleWildcardPenalty): the two stars of a
  // HostSNI(`**.…`) that is not negated do not count, so that it ranks below the single wildcard
  // and the exact names it covers.
  const parsed = parseRuleWith(rule, TCP_GRAMMAR);
  if (!parsed.ok) return length;
  let priority = length;
  const walk = (node: RuleAst<TcpMatcherName>, negated: boolean): void => {
    if (node.type === 'matcher') {
      if (node.name === 'HostSNI' && !negated && node.args[0]!.value.startsWith('**.')) priority -= 2;
    } else if (node.type === 'not') walk(node.operand, !negated);
    else for (const c of node.children) walk(c, negated);
  };
  walk(parsed.ast, false);
  return priority;
}
