/**
 * The corpus of real Traefik files (test/corpus/traefik/MANIFEST.json): each file loads unchanged,
 * or is refused only for features that are not supported yet (named so), or for a real mistake in
 * the file that Traefik refuses too (each explained in the manifest). Files are loaded as
 * `traffic validate` loads them: static files with their dynamic sections, dynamic files with the
 * rule checker, the files of one provider directory (`group`) together.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  type ConfigIssue,
  type DynamicConfig,
  type DynamicText,
  formatIssue,
  loadDynamic,
  loadStaticConfig,
} from '../../src/config/index.ts';
import type { StaticConfig } from '../../src/config/static/schema.ts';
import { fileProviderOptions } from '../../src/providers/file/options.ts';
// As `traffic validate` and the proxy check rules: HTTP rules, and TCP rules in their language.
import { checkRule } from '../../src/runtime/rule-checks.ts';
import { CorpusBuilder } from '../helpers/corpus-build.ts';
import { ROOT } from '../helpers/proxy-process.ts';

interface Entry {
  readonly repo: string;
  readonly path: string;
  readonly commit: string;
  readonly local: string;
  readonly kind: 'static' | 'dynamic';
  readonly group?: string;
  readonly outcome: 'loads' | 'not-supported' | 'mistake';
  readonly unsupported?: readonly string[];
  readonly mistakes?: readonly { readonly match: string; readonly why: string }[];
  /** Providers the repository runs beside the file one (its static configuration). */
  readonly providers?: readonly string[];
  /**
   * The environment the repository runs the file provider with (its `.env` or compose file), for
   * the Go templates that read it (`{{ env "DOMAIN" }}`): set while the files are loaded.
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * The build pass (test/helpers/corpus-build.ts): the objects of this file that the proxy's
   * build leaves out, each with its error as the test prints it, and why Traefik leaves it out
   * too (its source). Absent = none.
   */
  readonly build?: readonly { readonly error: string; readonly why: string }[];
  /**
   * The repository's static file this dynamic file is loaded and built beside (staticFor): its
   * entry points, internal services, certificate resolvers and plugins. Absent = none in the
   * corpus reads it; the file is then checked as beside one that defines what it names.
   */
  readonly static?: string;
  /**
   * What only the static file shows (routers on entry points it does not define, certificate
   * resolvers it does not define, internal services it does not enable): the warnings as the test
   * prints them (the corpus folder left out), and what Traefik does there (its source).
   */
  readonly besideStatic?: readonly { readonly warning: string; readonly why: string }[];
}

const CORPUS = join(ROOT, 'test', 'corpus', 'traefik');
const manifest = JSON.parse(readFileSync(join(CORPUS, 'MANIFEST.json'), 'utf8')) as { files: Entry[] };

const ALL_INTERNAL: ReadonlySet<string> = new Set(['api', 'dashboard', 'ping', 'prometheus']);

/** The warnings that depend on the static configuration (entryPoints, resolvers, internal services). */
const STATIC_DEPENDENT = /^entry point `|certificate resolver `|@internal/;

/** Errors that follow from another object's: not a finding of their own. */
const CONSEQUENCE = /is disabled because of its own errors/;

interface Loaded {
  readonly issues: ConfigIssue[];
  /** The usable part of a dynamic file (with its group), for the build pass. */
  readonly config?: DynamicConfig;
  /** The file each build error's object is defined in. */
  readonly fileOf?: (path: readonly (string | number)[]) => string | undefined;
}

/**
 * The repository's static file whose file provider reads this dynamic file, when the corpus has
 * it: its `filename` is the file's name, or its `directory` is the file's folder (compared by
 * their last segment: the repository's paths are those of its deployment, `/etc/traefik/dynamic`
 * for `traefik/dynamic/`). With one static file that has a file provider, that one.
 */
const besides = new Map<string, { config: StaticConfig; file: string; local: string } | undefined>();
function staticFor(entry: Entry): { config: StaticConfig; file: string; local: string } | undefined {
  const key = entry.group ?? entry.local;
  if (besides.has(key)) return besides.get(key);
  const found = findStatic(entry);
  besides.set(key, found);
  return found;
}

function findStatic(entry: Entry): { config: StaticConfig; file: string; local: string } | undefined {
  const candidates: { config: StaticConfig; file: string; local: string; reads: boolean }[] = [];
  const dir = basename(dirname(entry.path));
  for (const f of manifest.files) {
    if (f.repo !== entry.repo || f.kind !== 'static') continue;
    const file = join(CORPUS, f.local);
    const { config } = loadStaticConfig({ file, argv: [], env: f.env ?? {} });
    const fp = config?.providers.file;
    if (config === undefined || fp === undefined) continue;
    const reads =
      (fp.filename !== undefined && basename(fp.filename) === basename(entry.path)) ||
      (fp.directory !== undefined && basename(fp.directory) === dir);
    candidates.push({ config, file, local: f.local, reads });
  }
  const reading = candidates.filter((c) => c.reads);
  const chosen = reading.length === 1 ? reading[0] : candidates.length === 1 ? candidates[0] : undefined;
  return chosen === undefined ? undefined : { config: chosen.config, file: chosen.file, local: chosen.local };
}

function issuesOf(entry: Entry): Loaded {
  const file = join(CORPUS, entry.local);
  if (entry.kind === 'static') {
    // Its dynamic sections are not read (Traefik ignores them in the static file): a warning.
    return { issues: loadStaticConfig({ file, argv: [], env: {} }).issues };
  }
  // In name order, as the file provider reads a folder (a name defined twice: the first kept).
  const members = manifest.files
    .filter((f) =>
      entry.group === undefined ? f === entry : f.kind === 'dynamic' && f.group === entry.group,
    )
    .sort((a, b) => (a.local < b.local ? -1 : a.local > b.local ? 1 : 0));
  const texts: DynamicText[] = members.map((f) => {
    const p = join(CORPUS, f.local);
    return { file: p, text: readFileSync(p, 'utf8') };
  });
  // As beside its repository's static file when the corpus has it (its entry points, internal
  // services, certificate resolvers: fileProviderOptions, as `traffic validate` reads them),
  // else as beside one that enables the API where dynamic files name it.
  const knownProviders = [...new Set(members.flatMap((f) => f.providers ?? []))];
  const beside = staticFor(entry);
  const fromStatic = beside === undefined ? undefined : fileProviderOptions(beside.config, beside.file);
  const env = Object.assign({}, ...members.map((f) => f.env ?? {})) as Record<string, string>;
  const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, env);
  try {
    const loaded = loadDynamic(texts, {
      checkRule,
      provider: 'file',
      internalServices: fromStatic?.internalServices ?? ALL_INTERNAL,
      knownProviders,
      ...(fromStatic?.entryPoints === undefined ? {} : { entryPoints: fromStatic.entryPoints }),
      ...(fromStatic?.certResolvers === undefined ? {} : { certResolvers: fromStatic.certResolvers }),
      ...(fromStatic?.defaultRuleSyntax === undefined
        ? {}
        : { defaultRuleSyntax: fromStatic.defaultRuleSyntax }),
    });
    const locate = loaded.locate;
    return {
      issues: loaded.issues.filter((i) => i.file === file),
      ...(loaded.config === undefined ? {} : { config: loaded.config }),
      // Build errors name the qualified object (`name@file`): its file is where `name` is.
      fileOf: (path) =>
        locate?.(path.slice(0, 3).map((p, i) => (i === 2 ? String(p).replace(/@file$/, '') : p))).file,
    };
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const builder = new CorpusBuilder();
after(() => builder.close());

/** This file's objects that the build leaves out, with their errors (a group is built once). */
const builtGroups = new Map<string, readonly string[]>();
async function buildOutcome(entry: Entry, loaded: Loaded): Promise<readonly string[]> {
  if (loaded.config === undefined) return [];
  const key = entry.group ?? entry.local;
  let lines = builtGroups.get(key);
  if (lines === undefined) {
    const beside = staticFor(entry);
    const options = beside === undefined ? undefined : await builder.optionsFor(beside.config, beside.file);
    const declared =
      beside === undefined
        ? undefined
        : new Set([
            ...Object.keys(beside.config.experimental?.plugins ?? {}),
            ...Object.keys(beside.config.experimental?.localPlugins ?? {}),
          ]);
    lines = builder.build(new Map([['file', loaded.config]]), options, declared);
    builtGroups.set(key, lines);
  }
  const file = join(CORPUS, entry.local);
  return lines.filter((l) => {
    const path = l.slice(0, l.indexOf(': ')).split('.');
    return entry.group === undefined || loaded.fileOf?.(path) === file;
  });
}

describe('corpus of real Traefik files', () => {
  it('has at least 150 files from at least 60 repositories, each with its source and commit', () => {
    assert.ok(manifest.files.length >= 150, String(manifest.files.length));
    assert.ok(new Set(manifest.files.map((f) => f.repo)).size >= 60);
    for (const f of manifest.files) {
      assert.match(f.commit, /^[0-9a-f]{40}$/, f.local);
      assert.equal(f.local, `${f.repo.replace('/', '__')}/${f.path}`);
      if (f.outcome === 'mistake')
        assert.ok(
          (f.mistakes ?? []).every((m) => m.why.length > 20),
          f.local,
        );
      assert.ok(
        (f.build ?? []).every((b) => b.why.length > 20),
        f.local,
      );
    }
  });

  for (const entry of manifest.files) {
    it(`${entry.repo}: ${entry.path} (${entry.outcome})`, async () => {
      const loaded = issuesOf(entry);
      const issues = loaded.issues;
      // The build pass: what the proxy's build leaves out of what loaded, as Traefik's would,
      // beside the repository's static file when the corpus has it.
      const built = entry.kind === 'dynamic' ? await buildOutcome(entry, loaded) : [];
      if (process.env['CORPUS_BUILD_DUMP'] !== undefined)
        appendFileSync(
          process.env['CORPUS_BUILD_DUMP'],
          `${JSON.stringify({ local: entry.local, built })}\n`,
        );
      assert.deepEqual(
        built,
        (entry.build ?? []).map((b) => b.error),
        'build outcome',
      );
      if (entry.kind === 'dynamic') {
        const shown = issues
          .filter((i) => i.severity === 'warning' && STATIC_DEPENDENT.test(i.message))
          .map((i) => formatIssue(i).replace(`${CORPUS}/`, ''));
        if (process.env['CORPUS_STATIC_DUMP'] !== undefined)
          appendFileSync(
            process.env['CORPUS_STATIC_DUMP'],
            `${JSON.stringify({ local: entry.local, static: staticFor(entry)?.local, shown })}\n`,
          );
        assert.equal(staticFor(entry)?.local, entry.static, 'the static file it is checked beside');
        assert.deepEqual(
          shown,
          (entry.besideStatic ?? []).map((b) => b.warning),
          'what the static file shows',
        );
      }
      const errors = issues.filter((i) => i.severity === 'error');
      const lines = errors.map(formatIssue);
      const report = issues.map(formatIssue).join('\n');
      if (entry.outcome === 'loads') {
        assert.deepEqual(lines, [], report);
        return;
      }
      assert.ok(errors.length > 0, `expected errors:\n${report}`);
      const mistakes = entry.mistakes ?? [];
      for (const line of lines) {
        const allowed =
          line.includes('not supported yet') ||
          CONSEQUENCE.test(line) ||
          mistakes.some((m) => line.includes(m.match));
        assert.ok(allowed, `error neither "not supported yet" nor a listed mistake: ${line}\n${report}`);
      }
      for (const name of entry.unsupported ?? []) {
        assert.ok(
          lines.some((l) => l.includes(name) && l.includes('not supported yet')),
          `${name} should be reported as not supported yet:\n${report}`,
        );
      }
      for (const m of mistakes)
        assert.ok(
          lines.some((l) => l.includes(m.match)),
          `${m.match}:\n${report}`,
        );
      // Every error points into the file it is about.
      for (const e of errors) assert.ok(e.line !== undefined, formatIssue(e));
    });
  }
});
