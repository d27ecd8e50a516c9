import { FILE_DECODER, type ParsedDynamic, parseDynamicData } from '../config/dynamic/parse.ts';
import { type RuleChecker, validateDynamic } from '../config/dynamic/validate.ts';
import { type ConfigIssue, type ConfigPath, hasErrors, issue, sortIssues } from '../config/issues.ts';
import { isPlainObject } from '../config/schema-helpers.ts';
import { type Locator, parseYaml } from '../config/yaml-source.ts';
import type { ProviderUpdate } from './provider.ts';

/** What every provider checks its configuration against (from the static configuration). */
export interface ProviderValidation {
  readonly checkRule?: RuleChecker;
  readonly checkBreakerExpression?: RuleChecker;
  /** Entry points a router may name. */
  readonly entryPoints?: readonly string[];
  /** Internal services a router may name (`api` for `api@internal`). */
  readonly internalServices?: ReadonlySet<string>;
  /** The other providers of the process, whose objects may be named `x@<provider>`. */
  readonly knownProviders?: readonly string[];
  /** Certificate resolvers a router may name (the static configuration's). */
  readonly certResolvers?: readonly string[];
  /** `core.defaultRuleSyntax` (`v3` without it), for the rule warnings (ValidateOptions). */
  readonly hintRuleSyntax?: string;
}

/**
 * Where a path of the configuration came from, in the provider's own words (`label
 * traefik.http.routers.web.rule of container web`, `key traefik/http/routers/web/rule`): issues
 * carry it as their `file`, so that a log line or the API names what to fix.
 */
export type SourceOf = (path: ConfigPath) => string | undefined;

/**
 * A provider's configuration decoded into plain data (nested maps, lists and strings) read as a
 * file would be (Traefik's reading rules, the schema), then checked across objects for
 * `provider`. Issues name their source through `sourceOf`.
 */
export function updateFromData(
  data: Record<string, unknown>,
  provider: string,
  sourceOf: SourceOf,
  validation: ProviderValidation,
  extraIssues: readonly ConfigIssue[] = [],
  opts: { readonly quietCase?: boolean } = {},
): ProviderUpdate {
  const locate: Locator = (path) => {
    // The source of the deepest prefix that has one (an unknown key names its parent's).
    for (let n = path.length; n >= 0; n--) {
      const file = sourceOf(path.slice(0, n));
      if (file !== undefined) return { file, exact: false };
    }
    return { exact: false };
  };
  return checked(parseDynamicData(data, locate, opts), provider, validation, extraIssues);
}

/** Checks a parsed configuration across objects; what has errors is left out and listed. */
function checked(
  parsed: ParsedDynamic,
  provider: string,
  validation: ProviderValidation,
  extraIssues: readonly ConfigIssue[],
): ProviderUpdate {
  if (parsed.config === undefined) {
    return { config: undefined, issues: sortIssues([...extraIssues, ...parsed.issues]) };
  }
  const validated = validateDynamic(parsed.config, {
    ...validation,
    provider,
    locate: parsed.locate,
    disabled: parsed.disabled,
  });
  return {
    config: validated.config,
    issues: sortIssues([...extraIssues, ...parsed.issues, ...validated.issues]),
    locate: parsed.locate,
    disabled: validated.disabled,
  };
}

/**
 * A configuration document fetched from somewhere (the HTTP provider's endpoint): YAML (so JSON
 * too), never a template. Issues point at `source:line:col`. An empty document is an empty
 * configuration (it withdraws the provider's routes). `wholeDecode`: a document with any error in
 * its reading (an unknown key, a value of the wrong type) is rejected whole, as Traefik's decoder
 * (paerser) fails on one; only the checks across objects then leave objects out.
 */
export function updateFromYaml(
  text: string,
  source: string,
  provider: string,
  validation: ProviderValidation,
  opts: {
    readonly wholeDecode?: boolean;
    /**
     * Decoded as Traefik's file decoder does (the HTTP provider: paerser file.DecodeContent), which
     * refuses an empty map or section; the REST provider's JSON decoder does not.
     */
    readonly fileDecoder?: boolean;
  } = {},
): ProviderUpdate {
  const src = parseYaml(text, source);
  if (src.data === undefined) return { config: undefined, issues: src.issues };
  const top = src.data ?? {};
  if (!isPlainObject(top)) {
    const { exact: _, ...where } = src.locate([]);
    return {
      config: undefined,
      issues: [issue('error', 'the configuration must be a map (key: value)', [], where)],
    };
  }
  const parsed = parseDynamicData(
    top,
    src.locate,
    opts.fileDecoder === true ? { standalone: FILE_DECODER } : {},
  );
  if (parsed.config === undefined || (opts.wholeDecode === true && hasErrors(parsed.issues)))
    return { config: undefined, issues: sortIssues([...src.issues, ...parsed.issues]) };
  return checked(parsed, provider, validation, src.issues);
}
