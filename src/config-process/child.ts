/**
 * The configuration process: parses and validates one configuration for the serving process and
 * exits (config-process/client.ts forks it). `zod` and `yaml` (~160 modules, 6–12 MB that an
 * exited process gives back) are loaded here only, never by a proxy fed by the file provider
 * (docs/performance.md, "Memory at rest"; docs/architecture.md).
 */
import { lstatSync, mkdirSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigAnswer, ConfigQuestion } from './protocol.ts';

/**
 * Every question starts a new process: V8's code cache of the modules it loads (zod, yaml, our
 * schemas) spares compiling them each time (~20 ms of ~270, docs/performance.md). Kept where
 * NODE_COMPILE_CACHE says (Node then enabled it already), else in a folder of this user's own
 * under os.tmpdir(), not in Node's default there: code read from it runs here, and another user
 * could have created that one. A folder that cannot be used leaves the cache off (Node's call
 * returns a status, it does not throw).
 */
function enableCodeCache(): void {
  const env = process.env;
  if (env['NODE_COMPILE_CACHE'] || env['NODE_DISABLE_COMPILE_CACHE'] || process.geteuid === undefined) return;
  const uid = process.geteuid();
  const dir = join(tmpdir(), `traffic-compile-cache-${uid}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch {
    // It exists (checked below), or it cannot be made.
  }
  try {
    const s = lstatSync(dir);
    if (!s.isDirectory() || s.uid !== uid || (s.mode & 0o022) !== 0) return;
  } catch {
    return;
  }
  enableCompileCache(dir);
}
enableCodeCache();

// zod's 63 locales other than English are never read (core/zod-locales.ts): fewer modules, a
// faster answer. Registered before anything imports zod.
(await import('../core/zod-locales.ts')).englishOnlyZodLocales();

async function answer(q: ConfigQuestion): Promise<ConfigAnswer> {
  if (q.kind === 'static') {
    const [{ loadStaticConfig }, { computeSchemaDefaults }] = await Promise.all([
      import('../config/static/load.ts'),
      import('../config/schema-defaults-compute.ts'),
    ]);
    const { config, issues } = loadStaticConfig(q.options);
    const loaded = { issues, ...(config === undefined ? {} : { config }) };
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
