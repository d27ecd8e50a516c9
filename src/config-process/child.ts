/**
 * The configuration process: parses and validates one configuration for the serving process and
 * exits (config-process/client.ts forks it). `zod` and `yaml` (~160 modules, 6–12 MB that an
 * exited process gives back) are loaded here only, never by a proxy fed by the file provider
 * (docs/performance.md, "Memory at rest"; docs/architecture.md).
 */
import type { ConfigAnswer, ConfigQuestion } from './protocol.ts';

// zod's 63 locales other than English are never read (core/zod-locales.ts): fewer modules, a
// faster answer. Registered before anything imports zod.
(await import('../core/zod-locales.ts')).englishOnlyZodLocales();

async function answer(q: ConfigQuestion): Promise<ConfigAnswer> {
  if (q.kind === 'static') {
    const [{ loadStaticConfig }, { computeSchemaDefaults }] = await Promise.all([
      import('../config/static/load.ts'),
      import('../config/schema-defaults-compute.ts'),
    ]);
    const { config, issues, inlineDynamic } = loadStaticConfig(q.options);
    const loaded = {
      issues,
      ...(config === undefined ? {} : { config }),
      ...(inlineDynamic === undefined ? {} : { inlineDynamic }),
    };
    return { kind: 'static', loaded, defaults: computeSchemaDefaults() };
  }
  const [{ updateFrom }, checks] = await Promise.all([
    import('../providers/file/validate-sources.ts'),
    import('../runtime/rule-checks.ts'),
  ]);
  const { checkRules, checkBreakerExpressions, ...validation } = q.validation;
  const { locate: _, ...update } = updateFrom(q.read, {
    ...validation,
    ...(checkRules ? { checkRule: checks.checkRule } : {}),
    ...(checkBreakerExpressions ? { checkBreakerExpression: checks.checkBreakerExpression } : {}),
  });
  return { kind: 'file', update };
}

function failed(e: unknown): ConfigAnswer {
  return { kind: 'failed', message: e instanceof Error ? e.message : String(e) };
}

async function reply(q: ConfigQuestion): Promise<void> {
  let a: ConfigAnswer;
  try {
    a = await answer(q);
  } catch (e) {
    a = failed(e);
  }
  // Another question may follow (the spare at start, client.ts); else this process is done.
  const done = (): void => {
    if (q.more !== true) process.exit(0);
  };
  try {
    process.send?.(a, done);
  } catch (e) {
    // A value that cannot be cloned (a bug: configurations are plain data) is an answer too.
    process.send?.(failed(e), done);
  }
}

process.on('message', (q: ConfigQuestion) => void reply(q));
// The serving process is gone, or let this spare go: nobody waits for an answer.
process.once('disconnect', () => process.exit(0));
