import { type CompileResult, compileRule } from '../rule/compile.ts';
import type { CompileContext } from '../rule/matchers.ts';

/**
 * Compiled rules kept from one router build to the next, by rule text. A provider with a
 * thousand routes that changes one of them rebuilds the whole table; compiling every rule again
 * was a quarter of what a rebuild allocated. A compiled rule depends on its text only (matchers
 * are pure; the context holds memos: a matcher kept from an older build keeps that build's, which
 * answer the same). Rules no build used since the generation before last are forgotten.
 */
export class RuleMemo {
  #previous = new Map<string, CompileResult>();
  #current = new Map<string, CompileResult>();

  compile(rule: string, ctx: CompileContext, syntax?: string): CompileResult {
    // A v2 rule means something else than the same text in v3: its own key.
    // So does a rule compiled for CNAME flattening (its Host matchers read the flattened name).
    let key = syntax === 'v2' ? `v2\n${rule}` : rule;
    if (ctx.cnameFlattening === true) key = `cname\n${key}`;
    let r = this.#current.get(key);
    if (r !== undefined) return r;
    r = this.#previous.get(key) ?? compileRule(rule, ctx, syntax);
    this.#current.set(key, r);
    return r;
  }

  /** A new configuration is being built: rules of the one before last may go. */
  nextGeneration(): void {
    this.#previous = this.#current;
    this.#current = new Map();
  }
}
