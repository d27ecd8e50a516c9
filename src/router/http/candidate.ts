/**
 * What the index lists hold. Every candidate is created by `candidate()`, so all of them share one
 * object shape and the match loop's property loads stay monomorphic.
 */
import type { CompiledRule } from '../rule/compile.ts';
import type { RuleHints } from '../rule/hints.ts';
import type { RuleMatcher } from '../rule/matchers.ts';

export interface Candidate<T> {
  /** Position in the router's global order: lower is tried first. Unique per route. */
  readonly rank: number;
  readonly match: RuleMatcher;
  readonly name: string;
  readonly priority: number;
  readonly value: T;
}

export const TRUE_MATCHER: RuleMatcher = () => true;

function candidate<T>(
  rank: number,
  match: RuleMatcher,
  name: string,
  priority: number,
  value: T,
): Candidate<T> {
  return { rank, match, name, priority, value };
}

/** A compiled route with its hints, as the index builder sees it. */
export interface HintedRoute<T> {
  readonly rank: number;
  readonly entryPoints: readonly string[];
  readonly hints: RuleHints;
  /** Candidate with the whole rule. */
  readonly full: Candidate<T>;
  /** Candidate for requests whose host is `host`, or undefined when the rule cannot match it. */
  forHost(host: string): Candidate<T> | undefined;
  /** Candidate for requests whose host is one label under `parent`, or undefined. */
  forWildcardParent(parent: string): Candidate<T> | undefined;
}

export function hintedRoute<T>(
  rank: number,
  name: string,
  priority: number,
  value: T,
  entryPoints: readonly string[],
  rule: CompiledRule,
): HintedRoute<T> {
  const full = candidate(rank, rule.match, name, priority, value);
  // Specialized candidates, shared by the indexes of every entry point the route is on.
  let perKey: Map<string, Candidate<T> | undefined> | undefined;
  const cached = (key: string, make: () => RuleMatcher | boolean): Candidate<T> | undefined => {
    perKey ??= new Map();
    if (perKey.has(key)) return perKey.get(key);
    const m = make();
    const c = m === false ? undefined : candidate(rank, m === true ? TRUE_MATCHER : m, name, priority, value);
    perKey.set(key, c);
    return c;
  };
  return {
    rank,
    entryPoints,
    hints: rule.hints,
    full,
    // A host never starts with '*', so the two kinds of key cannot collide.
    forHost: (host) => cached(host, () => rule.forHost(host)),
    forWildcardParent: (parent) => cached(`*.${parent}`, () => rule.forWildcardParent(parent)),
  };
}
