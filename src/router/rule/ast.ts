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

/** A parsed rule; `N` is the matcher vocabulary (HTTP by default, TCP for `tcp.routers`). */
export type RuleAst<N extends string = MatcherName> =
  | { readonly type: 'or'; readonly children: readonly RuleAst<N>[]; readonly offset: number }
  | { readonly type: 'and'; readonly children: readonly RuleAst<N>[]; readonly offset: number }
  | { readonly type: 'not'; readonly operand: RuleAst<N>; readonly offset: number }
  | {
      readonly type: 'matcher';
      readonly name: N;
      readonly args: readonly RuleArg[];
      readonly offset: number;
    };

export type MatcherNode<N extends string = MatcherName> = Extract<RuleAst<N>, { type: 'matcher' }>;

/** One rule language: its matchers with their arities, and hints for names of the other one. */
export interface RuleGrammar<N extends string> {
  readonly arity: Readonly<Record<N, readonly number[]>>;
  /** Names that are not matchers of this language, with what to use instead. */
  readonly hints: Readonly<Record<string, string>>;
}

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
