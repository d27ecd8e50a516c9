/**
 * The parsed form of a Traefik v3 HTTP rule. Offsets are 0-based UTF-16 indexes into the rule
 * string so that errors and the `explain` feature can point at the exact spot.
 */

export type MatcherName =
  | 'Host'
  | 'HostRegexp'
  | 'Path'
  | 'PathPrefix'
  | 'PathRegexp'
  | 'Method'
  | 'Header'
  | 'HeaderRegexp'
  | 'Query'
  | 'QueryRegexp'
  | 'ClientIP';

export interface RuleArg {
  /** The decoded string value. */
  readonly value: string;
  /** Offset of the opening quote. */
  readonly offset: number;
  /** True for a backtick (raw) literal: value index i sits at rule offset `offset + 1 + i`. */
  readonly raw: boolean;
}

export type RuleAst =
  | { readonly type: 'or'; readonly children: readonly RuleAst[]; readonly offset: number }
  | { readonly type: 'and'; readonly children: readonly RuleAst[]; readonly offset: number }
  | { readonly type: 'not'; readonly operand: RuleAst; readonly offset: number }
  | {
      readonly type: 'matcher';
      readonly name: MatcherName;
      readonly args: readonly RuleArg[];
      readonly offset: number;
    };

export type MatcherNode = Extract<RuleAst, { type: 'matcher' }>;

export interface RuleError {
  readonly message: string;
  readonly offset: number;
}

/** Arity of each matcher, as Traefik v3 checks it (`expectNParameters`). */
export const MATCHER_ARITY: Readonly<Record<MatcherName, readonly number[]>> = {
  Host: [1],
  HostRegexp: [1],
  Path: [1],
  PathPrefix: [1],
  PathRegexp: [1],
  Method: [1],
  Header: [2],
  HeaderRegexp: [2],
  Query: [1, 2],
  QueryRegexp: [1, 2],
  ClientIP: [1],
};
