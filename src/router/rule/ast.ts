/**
 * The parsed form of a Traefik v3 HTTP rule. Offsets are 0-based UTF-16 indexes into the rule
 * string so that errors and the `explain` feature can point at the exact spot.
 */

/** The matchers a v3 rule may name. */
export type V3MatcherName =
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

/**
 * Every matcher of a compiled rule: v3's, and those only a `ruleSyntax: v2` rule compiles to
 * (router/rule/parser-v2.ts), which no rule text can name. `QueryV2`: the first value of a query
 * key equals a value; `QueryV2Regexp`: a Go regexp matches `key=<first value>` (gorilla/mux's
 * Queries, which Traefik's v2 Query matcher uses); `HostRegexpV2Port`: a v2 HostRegexp whose
 * template has a `:`, which gorilla/mux matches against the host with its port.
 */
export type MatcherName = V3MatcherName | 'QueryV2' | 'QueryV2Regexp' | 'HostRegexpV2Port';

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
  /** The argument counts each matcher takes; an empty list: any count from 1 (Traefik v2). */
  readonly arity: Readonly<Record<N, readonly number[]>>;
  /** Names that are not matchers of this language, with what to use instead. */
  readonly hints: Readonly<Record<string, string>>;
}

export interface RuleError {
  readonly message: string;
  readonly offset: number;
}

/** Arity of each matcher, as Traefik v3 checks it (`expectNParameters`). */
export const MATCHER_ARITY: Readonly<Record<V3MatcherName, readonly number[]>> = {
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
