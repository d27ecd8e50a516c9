import type { FileProviderConfig, RuleChecker, StaticConfig } from '../../config/index.ts';
import { enabledInternalServices, listenedEntryPoints } from '../../config/static/admin-entry-points.ts';
import type { FileProviderOptions } from './file-provider.ts';

interface Extra {
  readonly checkRule?: RuleChecker;
  /** The syntax of routers without `ruleSyntax`; absent: unknown (either passes). */
  readonly defaultRuleSyntax?: string;
  /** The static configuration's resolvers; absent = not checked. */
  readonly certResolvers?: readonly string[];
  readonly checkBreakerExpression?: RuleChecker;
  readonly debounceMs?: number;
  /** Internal services a router may name (`api` for `api@internal`); absent = none. */
  readonly internalServices?: ReadonlySet<string>;
  /** The other providers of the process, whose objects may be named `x@<provider>`. */
  readonly knownProviders?: readonly string[];
}

/**
 * The file provider that a static configuration asks for (`providers.file`); undefined without
 * one. `staticFile` is the static file: when the provider reads it too, only its dynamic sections
 * are read (Traefik reads none of them otherwise).
 */
export function fileProviderOptions(
  config: StaticConfig,
  staticFile: string | undefined,
  extra: Extra = {},
): FileProviderOptions | undefined {
  // Admin entry points too: a router may share them with the API (the API answers its own paths).
  const entryPoints = listenedEntryPoints(config).map(([n]) => n);
  return fileProviderOptionsOf(config.providers.file, entryPoints, staticFile, {
    ...extra,
    // How the build reads a router without `ruleSyntax` (entry-point-model.ts, Traefik's
    // applyModel): the load check reads it so too.
    defaultRuleSyntax: config.core?.defaultRuleSyntax ?? 'v3',
    internalServices: enabledInternalServices(config),
    certResolvers: Object.keys(config.certificatesResolvers ?? {}),
  });
}

/**
 * The same from the parts of a static configuration: `traffic validate` uses what it could read
 * of a static file with errors. Without `entryPoints`, a router's entry points are not checked.
 */
export function fileProviderOptionsOf(
  fp: FileProviderConfig | undefined,
  entryPoints: readonly string[] | undefined,
  staticFile: string | undefined,
  extra: Extra = {},
): FileProviderOptions | undefined {
  if (fp === undefined) return undefined;
  return {
    watch: fp.watch,
    ...(entryPoints !== undefined ? { entryPoints } : {}),
    ...(extra.internalServices !== undefined ? { internalServices: extra.internalServices } : {}),
    ...(fp.filename !== undefined ? { filename: fp.filename } : {}),
    ...(fp.directory !== undefined ? { directory: fp.directory } : {}),
    ...(staticFile !== undefined ? { staticFile } : {}),
    ...(extra.checkRule !== undefined ? { checkRule: extra.checkRule } : {}),
    ...(extra.defaultRuleSyntax !== undefined ? { defaultRuleSyntax: extra.defaultRuleSyntax } : {}),
    ...(extra.checkBreakerExpression !== undefined
      ? { checkBreakerExpression: extra.checkBreakerExpression }
      : {}),
    ...(extra.debounceMs !== undefined ? { debounceMs: extra.debounceMs } : {}),
    ...(extra.certResolvers !== undefined ? { certResolvers: extra.certResolvers } : {}),
    ...(extra.knownProviders !== undefined ? { knownProviders: extra.knownProviders } : {}),
    ...(fp.debugLogGeneratedTemplate === true ? { debugLogGeneratedTemplate: true } : {}),
  };
}
