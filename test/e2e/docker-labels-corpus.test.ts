/**
 * The corpus of real docker-compose files with `traefik.*` labels (test/corpus/docker-compose/
 * MANIFEST.json): each service's labels go through the Docker provider's label parser as the
 * provider calls it (containersConfig, then updateFromData with the rule checker), no dockerd
 * needed. Compose's own reading comes first, as `docker compose` does it: the list form
 * (`key=value`, split at the first `=`; a bare key is an empty value) or the map form, YAML merge
 * keys, and interpolation (`$$` is a literal `$`; `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `$VAR`, with the manifest's `env` for the variables the repository's `.env` sets; an unset
 * variable is empty, as compose makes it). What compose files do not say is made up: the
 * container's addresses (one per network it joins) and its exposed ports (`expose`, the container
 * side of `ports`; without either, the image's EXPOSE is unknown and taken as 80).
 *
 * Outcomes as in the Traefik corpus: `loads` (no error), or `mistake` (errors, each from a real
 * mistake in the file that Traefik refuses too, explained in the manifest).
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import type { DynamicConfig } from '../../src/config/dynamic/schema.ts';
import { loadStaticConfig } from '../../src/config/index.ts';
import { type ConfigIssue, formatIssue } from '../../src/config/issues.ts';
import { enabledInternalServices, listenedEntryPoints } from '../../src/config/static/admin-entry-points.ts';
import { dockerProviderSchema } from '../../src/config/static/providers.ts';
import type { StaticConfig } from '../../src/config/static/schema.ts';
import { compileConstraints } from '../../src/providers/docker/constraints.ts';
import { type ContainerInfo, containersConfig } from '../../src/providers/docker/docker-config.ts';
import { updateFromData } from '../../src/providers/dynamic-data.ts';
import { checkRule } from '../../src/runtime/rule-checks.ts';
import { CorpusBuilder } from '../helpers/corpus-build.ts';
import { ROOT } from '../helpers/proxy-process.ts';

interface Entry {
  readonly repo: string;
  readonly path: string;
  readonly commit: string;
  readonly local: string;
  readonly outcome: 'loads' | 'mistake';
  /** The variables the repository's `.env` (or its documentation) sets. */
  readonly env?: Readonly<Record<string, string>>;
  /** The repository's providers.docker options (exposedByDefault, network, defaultRule…). */
  readonly options?: Readonly<Record<string, unknown>>;
  readonly mistakes?: readonly { readonly match: string; readonly why: string }[];
  readonly note?: string;
  /**
   * The build pass (test/helpers/corpus-build.ts): the objects the proxy's build leaves out of
   * what the labels give, each with its error, and why Traefik leaves it out too. Absent = none.
   */
  readonly build?: readonly { readonly error: string; readonly why: string }[];
  /**
   * Whether the file's Traefik service gives its static configuration as `command` flags
   * (composeStatic): the labels are then loaded and built beside it.
   */
  readonly flags?: boolean;
  /** What only those flags show (see the Traefik corpus's `besideStatic`). */
  readonly besideStatic?: readonly { readonly warning: string; readonly why: string }[];
}

const CORPUS = join(ROOT, 'test', 'corpus', 'docker-compose');
const manifest = JSON.parse(readFileSync(join(CORPUS, 'MANIFEST.json'), 'utf8')) as { files: Entry[] };

/** Compose's interpolation (compose-go template): `$$` → `$`, `${VAR…}` and `$VAR` from `env`. */
export function interpolate(s: string, env: Readonly<Record<string, string>>): string {
  return s.replace(
    /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (
      _m,
      dollar: string | undefined,
      name: string | undefined,
      op: string | undefined,
      arg: string | undefined,
      bare: string | undefined,
    ) => {
      if (dollar !== undefined) return '$';
      const v = env[(name ?? bare)!];
      if (op === undefined) return v ?? '';
      const unsetOrEmpty = v === undefined || (op.startsWith(':') && v === '');
      if (op.endsWith('-')) return unsetOrEmpty ? interpolate(arg ?? '', env) : v!;
      if (op.endsWith('+')) return unsetOrEmpty ? '' : interpolate(arg ?? '', env);
      if (unsetOrEmpty) throw new Error(`required variable ${name} is not set: ${arg}`);
      return v!;
    },
  );
}

type Obj = Record<string, unknown>;

/** A service's labels, list or map form, interpolated. */
function labelsOf(raw: unknown, env: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(raw)) {
    for (const item of raw) {
      const s = interpolate(String(item), env);
      const eq = s.indexOf('=');
      if (eq < 0) out[s] = '';
      else out[s.slice(0, eq)] = s.slice(eq + 1);
    }
  } else if (typeof raw === 'object' && raw !== null) {
    for (const [k, v] of Object.entries(raw as Obj)) {
      out[interpolate(k, env)] = v === null || v === undefined ? '' : interpolate(String(v), env);
    }
  }
  return out;
}

function containerPorts(svc: Obj): number[] {
  const ports = new Set<number>();
  for (const e of (svc['expose'] as unknown[] | undefined) ?? []) {
    const n = Number.parseInt(String(e), 10);
    if (Number.isInteger(n)) ports.add(n);
  }
  for (const p of (svc['ports'] as unknown[] | undefined) ?? []) {
    if (typeof p === 'object' && p !== null) {
      const t = Number((p as Obj)['target']);
      if (Number.isInteger(t)) ports.add(t);
      continue;
    }
    // [ip:][host:]container[/proto]
    const spec = String(p).split('/')[0]!;
    const n = Number.parseInt(spec.split(':').at(-1)!.split('-')[0]!, 10);
    if (Number.isInteger(n)) ports.add(n);
  }
  return ports.size === 0 ? [80] : [...ports].sort((a, b) => a - b);
}

/** The containers of a compose file, with made-up addresses. */
export function composeContainers(text: string, project: string, env: Readonly<Record<string, string>>) {
  const doc = parse(text, { merge: true, uniqueKeys: false }) as Obj;
  const services = (doc['services'] ?? {}) as Record<string, Obj | null>;
  const containers: ContainerInfo[] = [];
  let host = 2;
  for (const [name, svc] of Object.entries(services)) {
    if (svc === null) continue;
    const deploy = (svc['deploy'] ?? {}) as Obj;
    const labels = { ...labelsOf(svc['labels'], env), ...labelsOf(deploy['labels'], env) };
    if (!Object.keys(labels).some((k) => k.toLowerCase().startsWith('traefik.'))) continue;
    const nets = svc['networks'];
    const netNames =
      nets === undefined || nets === null
        ? ['default']
        : Array.isArray(nets)
          ? nets.map(String)
          : Object.keys(nets as Obj);
    const networks: Record<string, string> = {};
    for (const n of netNames) networks[`${project}_${n}`] = `172.20.0.${host++}`;
    // Compose names networks <project>_<name> unless external or named; Traefik matches either.
    for (const n of netNames) networks[n] = networks[`${project}_${n}`]!;
    const mode = svc['network_mode'] === undefined ? 'bridge' : String(svc['network_mode']);
    const containerName =
      svc['container_name'] === undefined
        ? `${project}-${name}-1`
        : interpolate(String(svc['container_name']), env);
    containers.push({
      id: containerName,
      name: containerName,
      labels: { ...labels, 'com.docker.compose.service': name, 'com.docker.compose.project': project },
      health: '',
      networkMode: mode.startsWith('service:') ? 'bridge' : mode,
      networks,
      ports: containerPorts(svc),
      bindings: {},
    });
  }
  return containers;
}

/**
 * The static configuration of the file's Traefik service, when its `command` gives it as flags
 * (`--entryPoints.web.address=:80` …, compose-interpolated): Traefik's FlagLoader reads them when
 * no static file is found (cmd/traefik/traefik.go loaders; pkg/cli/loader_flag.go). A service
 * that names or mounts a static file (`--configFile`, a traefik.yml/.toml volume) is read from
 * that file, which the corpus does not have: none then, nor when the flags do not load.
 */
export function composeStatic(text: string, env: Readonly<Record<string, string>>): StaticConfig | undefined {
  const doc = parse(text, { merge: true, uniqueKeys: false }) as Obj;
  const services = (doc['services'] ?? {}) as Record<string, Obj | null>;
  for (const svc of Object.values(services)) {
    if (svc === null || !/(^|\/)traefik(:|$)/.test(String(svc['image'] ?? ''))) continue;
    const command = svc['command'];
    let words: string[];
    try {
      words = Array.isArray(command)
        ? command.map((c) => interpolate(String(c), env))
        : typeof command === 'string'
          ? interpolate(command, env).split(/\s+/)
          : [];
    } catch {
      return undefined; // A required variable the manifest's `env` does not set (`${X:?…}`).
    }
    const flags = words.filter((w) => w.startsWith('--'));
    const volumes = ((svc['volumes'] as unknown[] | undefined) ?? []).map((v) =>
      typeof v === 'object' && v !== null ? String((v as Obj)['target'] ?? '') : String(v),
    );
    const mountsFile = volumes.some((v) => /traefik\.(ya?ml|toml)(:|$)/i.test(v));
    if (flags.length === 0 || mountsFile || flags.some((f) => /^--config-?file/i.test(f))) return undefined;
    return loadStaticConfig({ argv: flags, env: {} }).config;
  }
  return undefined;
}

function issuesOf(entry: Entry): {
  issues: readonly ConfigIssue[];
  containers: number;
  config: DynamicConfig | undefined;
  beside: StaticConfig | undefined;
} {
  const env = entry.env ?? {};
  const text = readFileSync(join(CORPUS, entry.local), 'utf8');
  const project = entry.repo
    .split('/')[1]!
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '');
  const containers = composeContainers(text, project, env);
  const cfg = dockerProviderSchema.parse(entry.options ?? {});
  const constraint = compileConstraints(cfg.constraints);
  if (typeof constraint !== 'function') throw new Error(constraint.error);
  const built = containersConfig(containers, cfg, constraint, 'container');
  // Beside the Traefik service's flags when it has them (its entry points, internal services,
  // certificate resolvers), else as beside a static configuration that enables the internal
  // services the labels name.
  const beside = composeStatic(text, env);
  const update = updateFromData(
    built.data,
    'docker',
    built.sourceOf,
    {
      checkRule,
      internalServices:
        beside === undefined
          ? new Set(['api', 'dashboard', 'ping', 'prometheus'])
          : enabledInternalServices(beside),
      knownProviders: ['file', 'internal'],
      ...(beside === undefined
        ? {}
        : {
            entryPoints: listenedEntryPoints(beside).map(([n]) => n),
            certResolvers: Object.keys(beside.certificatesResolvers ?? {}),
          }),
    },
    built.issues,
    { quietCase: true },
  );
  return { issues: update.issues, containers: containers.length, config: update.config, beside };
}

const builder = new CorpusBuilder();
after(() => builder.close());

describe('corpus of real docker-compose files with Traefik labels', () => {
  it('has at least 40 files from at least 30 repositories, each with its source and commit', () => {
    assert.ok(manifest.files.length >= 40, String(manifest.files.length));
    assert.ok(new Set(manifest.files.map((f) => f.repo)).size >= 30);
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

  it('reads compose interpolation as compose does', () => {
    const env = { A: 'x', E: '' };
    assert.equal(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's syntax, not a template
      interpolate('$$apr1$$x ${A} $A ${B:-d} ${E:-d} ${E-d} ${B-d} ${A:+y}', env),
      '$apr1$x x x d d  d y',
    );
  });

  for (const entry of manifest.files) {
    it(`${entry.repo}: ${entry.path} (${entry.outcome})`, async () => {
      const { issues, containers, config, beside } = issuesOf(entry);
      assert.ok(containers > 0, 'no service with traefik labels');
      // The build pass: what the proxy's build leaves out of what loaded, as Traefik's would,
      // beside the Traefik service's flags when it has them.
      const options =
        beside === undefined ? undefined : await builder.optionsFor(beside, join(CORPUS, entry.local));
      const declared =
        beside === undefined
          ? undefined
          : new Set([
              ...Object.keys(beside.experimental?.plugins ?? {}),
              ...Object.keys(beside.experimental?.localPlugins ?? {}),
            ]);
      const built =
        config === undefined ? [] : builder.build(new Map([['docker', config]]), options, declared);
      // The warnings only the flags show (entry points, resolvers, internal services).
      const shown = issues
        .filter(
          (i) =>
            i.severity === 'warning' && /^entry point `|certificate resolver `|@internal/.test(i.message),
        )
        .map(formatIssue);
      if (process.env['CORPUS_STATIC_DUMP'] !== undefined)
        appendFileSync(
          process.env['CORPUS_STATIC_DUMP'],
          `${JSON.stringify({ local: entry.local, flags: beside !== undefined, shown })}\n`,
        );
      if (process.env['CORPUS_BUILD_DUMP'] !== undefined)
        appendFileSync(
          process.env['CORPUS_BUILD_DUMP'],
          `${JSON.stringify({ local: entry.local, built })}\n`,
        );
      assert.equal(beside !== undefined, entry.flags === true, 'built beside the Traefik service’s flags');
      assert.deepEqual(
        shown,
        (entry.besideStatic ?? []).map((b) => b.warning),
        'what the flags show',
      );
      assert.deepEqual(
        built,
        (entry.build ?? []).map((b) => b.error),
        'build outcome',
      );
      const errors = issues.filter((i) => i.severity === 'error').map(formatIssue);
      const report = issues.map(formatIssue).join('\n');
      if (entry.outcome === 'loads') {
        assert.deepEqual(errors, [], report);
        return;
      }
      assert.ok(errors.length > 0, `expected errors:\n${report}`);
      const mistakes = entry.mistakes ?? [];
      for (const line of errors) {
        assert.ok(
          /is disabled because of its own errors/.test(line) || mistakes.some((m) => line.includes(m.match)),
          `error not a listed mistake: ${line}\n${report}`,
        );
      }
      for (const m of mistakes)
        assert.ok(
          errors.some((l) => l.includes(m.match)),
          `${m.match}:\n${report}`,
        );
    });
  }
});
