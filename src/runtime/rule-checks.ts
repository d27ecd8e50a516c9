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
export const checkRule: RuleChecker = (rule, language) => {
  const key = `${language ?? 'http'}\n${rule}`;
  if (ruleVerdicts.has(key)) return ruleVerdicts.get(key);
  const r = language === 'tcp' ? compileTcpRule(rule) : compileRule(rule);
  const verdict = r.ok ? undefined : r.error;
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
