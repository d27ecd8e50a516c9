/**
 * HTTP routing: the Traefik v3 rule language compiled to matchers, and the router table.
 * TCP (HostSNI) and UDP routing will live beside it in tcp/ and udp/.
 */

export { compileRe2 } from '../core/re2/index.ts';
export type { RouteEntry, RouteExplanation } from './http/http-router.ts';
export { HttpRouter } from './http/http-router.ts';
export { RuleMemo } from './http/rule-memo.ts';
export type { MatcherName, RuleArg, RuleAst, RuleError } from './rule/ast.ts';
export type { CompiledRule, CompileResult } from './rule/compile.ts';
export { compileRule, createCompileContext, defaultPriority } from './rule/compile.ts';
export type { HeaderHint, HostHint, PathHint, RuleHints } from './rule/hints.ts';
export { hostMatcherValues, sniHosts } from './rule/hints.ts';
export type { CompileContext, RuleMatcher } from './rule/matchers.ts';
export type { ParseResult } from './rule/parser.ts';
export { HTTP_GRAMMAR, parseRule, parseRuleWith } from './rule/parser.ts';
export { parseRuleSyntax, parseRuleV2 } from './rule/parser-v2.ts';
