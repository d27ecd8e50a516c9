import type { SchemaDefaults } from '../config/schema-defaults.ts';
import type { LoadedStatic, LoadStaticOptions } from '../config/static/load.ts';
import type { FileValidation, LoadedUpdate, ReadResult } from '../providers/file/read-sources.ts';

/*
 * What the serving process asks the configuration process (child.ts) and what it answers: one
 * question per process, sent over its IPC channel as a structured clone (`serialization:
 * 'advanced'`: `undefined`, Sets and Maps survive). Functions do not cross: the child checks rules
 * with its own compilers (runtime/rule-checks.ts), and locators stay behind (client.ts).
 */

/** FileValidation without its functions: whether to check rules and breaker expressions instead. */
export type PlainFileValidation = Omit<FileValidation, 'checkRule' | 'checkBreakerExpression'> & {
  readonly checkRules: boolean;
  readonly checkBreakerExpressions: boolean;
};

export type ConfigQuestion = (
  | { readonly kind: 'static'; readonly options: Omit<LoadStaticOptions, 'readFile'> }
  | { readonly kind: 'file'; readonly read: ReadResult; readonly validation: PlainFileValidation }
) & {
  /** The child waits for another question once it answered (else it exits). */
  readonly more?: boolean;
};

/** The static configuration as main() uses it (no locator, no raw data). */
export type PlainStatic = Pick<LoadedStatic, 'config' | 'issues'>;

export type ConfigAnswer =
  | { readonly kind: 'static'; readonly loaded: PlainStatic; readonly defaults: SchemaDefaults }
  | { readonly kind: 'file'; readonly update: Omit<LoadedUpdate, 'locate'> }
  /** A bug in loading or checking (an exception): its message. */
  | { readonly kind: 'failed'; readonly message: string };
