import type { RuleChecker } from '../config/dynamic/validate.ts';
import { loadModule } from '../core/lazy-module.ts';
import { compileRule } from '../router/index.ts';
import { compileTcpRule } from '../router/tcp/index.ts';

/*
 * How configurations check their rules and circuit breaker expressions: with the compilers that
 * will run them. Used by the serving process (the providers that validate in it, the admin API)
 * and by the configuration process (config-process/child.ts) alike.
 */

/**
 * Each provider update checks every rule of the provider again (a thousand routes: a thousand
 * compilations per change); a rule's verdict depends on its text only, so it is kept. Bounded:
 * forgotten all at once past 20,000 rules.
 */
const ruleVerdicts = new Map<string, ReturnType<RuleChecker>>();
export const checkRule: RuleChecker = (rule, language, syntax) => {
  // Only `v2` picks another parser (Traefik: any other value is v3's).
  const v2 = syntax === 'v2' ? 'v2' : syntax === undefined ? 'either' : 'v3';
  const key = `${language ?? 'http'}\n${v2}\n${rule}`;
  if (ruleVerdicts.has(key)) return ruleVerdicts.get(key);
  const check = (s: string | undefined) =>
    language === 'tcp' ? compileTcpRule(rule, s) : compileRule(rule, undefined, s);
  const r = check(v2 === 'v2' ? 'v2' : undefined);
  // No ruleSyntax of its own: `core.defaultRuleSyntax: v2` may make it a v2 rule (the build,
  // which knows the default, refuses it if not); the v3 error is the one reported.
  const verdict = r.ok || (v2 === 'either' && check('v2').ok) ? undefined : r.error;
  if (ruleVerdicts.size >= 20_000) ruleVerdicts.clear();
  ruleVerdicts.set(key, verdict);
  return verdict;
};

type BreakerExpressionModule = typeof import('../resilience/circuit-breaker/expression.ts');

/** Its compiler is loaded by the first circuitBreaker middleware checked (see core/lazy-module.ts). */
export const checkBreakerExpression: RuleChecker = (src) => {
  const { compileBreakerExpression } = loadModule<BreakerExpressionModule>(
    import.meta.url,
    '../resilience/circuit-breaker/expression.ts',
  );
  const r = compileBreakerExpression(src);
  return r.ok ? undefined : { message: r.error, offset: r.offset };
};
