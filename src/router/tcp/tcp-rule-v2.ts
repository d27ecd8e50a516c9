/**
 * Traefik v2's TCP rule syntax (`ruleSyntax: v2`, or `core.defaultRuleSyntax: v2`), as Traefik v3
 * reads it (pkg/muxer/tcp/matcher_v2.go tcpFuncsV2): each matcher takes one or more arguments.
 * Parsed with our one parser, then rewritten into v3 TCP matchers, so it compiles to the same
 * closures:
 *
 *   HostSNI(`*`, …)          → HostSNI(`*`) || …        (a first `*` matches every connection)
 *   HostSNI(`a.com`, `b`)    → HostSNI(`a.com`) || HostSNI(`b`)   (no `*.a.com` wildcard in v2)
 *   HostSNI(`a.com`, `*`)    → HostSNI(`a.com`) || HostSNIRegexp(`.`)   (a later `*`: any SNI)
 *   HostSNIRegexp(`{sub:[a-z]+}.a.com`) → HostSNIRegexp(`(?i)^(?:[a-z]+)\.a\.com$`)  (preparePattern)
 *   ClientIP(`a`, `b`) / ALPN(`a`, `b`) → one per argument, joined with `||`
 */
import { domainToASCII } from 'node:url';
import type { RuleArg, RuleAst, RuleGrammar } from '../rule/ast.ts';
import { MUX_DEFAULT_PATTERN, muxTemplate } from '../rule/mux-template.ts';
import type { ParseResult } from '../rule/parser.ts';
import { parseV2, V2Error } from '../rule/parser-v2.ts';
import type { TcpMatcherName } from './tcp-rule.ts';

const ANY: readonly number[] = [];

export const TCP_V2_GRAMMAR: RuleGrammar<TcpMatcherName> = {
  arity: { HostSNI: ANY, HostSNIRegexp: ANY, ClientIP: ANY, ALPN: ANY },
  hints: {
    Host: 'Host is an HTTP matcher; TCP routers match the TLS server name with HostSNI',
    HostRegexp: 'HostRegexp is an HTTP matcher; use HostSNIRegexp',
  },
};

/** Go's `[[:word:].\-:]` (hostOrIP in pkg/muxer/tcp/matcher.go). */
const HOST_OR_IP = /^[A-Za-z0-9_.:-]+$/;

type Node = RuleAst<TcpMatcherName>;

function leaf(name: TcpMatcherName, a: RuleArg, offset: number, value = a.value): Node {
  const arg = value === a.value ? a : { value, offset: a.offset, raw: false };
  return { type: 'matcher', name, args: [arg], offset };
}

function oneOf(children: Node[], offset: number): Node {
  return children.length === 1 ? children[0]! : { type: 'or', children, offset };
}

function translate(node: Extract<Node, { type: 'matcher' }>): Node {
  const { args, offset } = node;
  switch (node.name) {
    case 'HostSNI': {
      // hostSNIV2: every name but `*` must be a host name or IP (punycode tried), lower-cased.
      const hosts = args.map((a) => {
        if (a.value === '*') return a;
        let host = a.value;
        if (!HOST_OR_IP.test(host)) {
          const ascii = domainToASCII(host);
          if (ascii === '' || !HOST_OR_IP.test(ascii)) {
            throw new V2Error(`HostSNI: ${JSON.stringify(a.value)} is not a valid hostname or IP`, a.offset);
          }
          host = ascii;
        }
        return { value: host.toLowerCase(), offset: a.offset, raw: false };
      });
      // A first `*` matches every connection (HostSNI(`*`) first in the `||`); a later one, any
      // connection that sent a server name. Only HostSNI(`*`) alone is the catch-all.
      return oneOf(
        hosts.map((h, i) =>
          h.value === '*' && i > 0 ? leaf('HostSNIRegexp', h, offset, '.') : leaf('HostSNI', h, offset),
        ),
        offset,
      );
    }
    case 'HostSNIRegexp':
      return oneOf(
        args.map((a) => {
          const t = muxTemplate(a.value, MUX_DEFAULT_PATTERN.host);
          if (!t.ok) {
            throw new V2Error(
              `HostSNIRegexp: ${JSON.stringify(a.value)} is not a valid pattern: ${t.message}`,
              a.offset,
            );
          }
          // preparePattern: case-insensitive, the whole server name.
          return leaf('HostSNIRegexp', a, offset, `(?i)^${t.source}$`);
        }),
        offset,
      );
    case 'ClientIP':
    case 'ALPN':
      return oneOf(
        args.map((a) => leaf(node.name, a, offset)),
        offset,
      );
  }
}

/** Parses a `ruleSyntax: v2` TCP rule into the v3 TCP matchers it means. */
export function parseTcpRuleV2(rule: string): ParseResult<TcpMatcherName> {
  return parseV2(rule, TCP_V2_GRAMMAR, translate);
}
