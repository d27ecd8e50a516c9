import { fork } from 'node:child_process';
import type { DynamicText } from '../config/dynamic/load.ts';
import type { Locator } from '../config/locator.ts';
import { installSchemaDefaults } from '../config/schema-defaults.ts';
import type { LoadStaticOptions } from '../config/static/load.ts';
import { loadModule } from '../core/lazy-module.ts';
import type { FileValidation, LoadedUpdate, ReadResult } from '../providers/file/read-sources.ts';
import type { ConfigAnswer, ConfigQuestion, PlainStatic } from './protocol.ts';

/**
 * The serving process's side of the configuration process (child.ts): configurations are parsed
 * and validated in a short-lived child, so that the proxy never loads `zod` and `yaml` and keeps
 * none of their memory (docs/performance.md, "Memory at rest"). One child per question: it
 * starts, answers and exits (~0.2 s of CPU); the file provider asks one question at a time, and
 * changes during a question are read again once, after it (providers/file/file-provider.ts).
 */

const CHILD = new URL(import.meta.url.endsWith('.ts') ? './child.ts' : './child.js', import.meta.url);

function ask(q: ConfigQuestion): Promise<ConfigAnswer> {
  return new Promise((resolve, reject) => {
    // No execArgv of ours (a preloaded `--import`, inspector or heap flags are the proxy's);
    // the environment is inherited: TRAFFIC_* overrides are read from the question, not from it.
    const child = fork(CHILD, [], {
      serialization: 'advanced',
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let answer: ConfigAnswer | undefined;
    child.once('message', (m) => {
      answer = m as ConfigAnswer;
    });
    child.once('error', reject);
    // Settled once the child is gone: no configuration process outlives its question.
    child.once('exit', (code, signal) => {
      if (answer !== undefined) resolve(answer);
      else
        reject(
          new Error(`the configuration process ended without an answer (${signal ?? `exit code ${code}`})`),
        );
    });
    child.send(q);
  });
}

/** loadStaticConfig() in the configuration process; installs the schemas' defaults it sends. */
export async function loadStaticInChild(options: Omit<LoadStaticOptions, 'readFile'>): Promise<PlainStatic> {
  // process.env is an exotic object: its own copy crosses.
  const a = await ask({ kind: 'static', options: { ...options, env: { ...options.env } } });
  if (a.kind === 'failed') throw new Error(`cannot load the configuration (internal error: ${a.message})`);
  if (a.kind !== 'static') throw new Error(`the configuration process answered ${a.kind} to static`);
  installSchemaDefaults(a.defaults);
  return a.loaded;
}

/**
 * The file provider's update for what was read (validate-sources.ts `updateFrom`), computed in the
 * configuration process. Throws on an internal error (the provider reports it like a rejection).
 */
export async function validateFilesInChild(
  read: ReadResult,
  validation: FileValidation,
): Promise<LoadedUpdate> {
  // Field by field: the provider passes its whole options object (with callbacks) as `validation`.
  const v = validation;
  const a = await ask({
    kind: 'file',
    read,
    validation: {
      ...(v.entryPoints === undefined ? {} : { entryPoints: v.entryPoints }),
      ...(v.internalServices === undefined ? {} : { internalServices: v.internalServices }),
      ...(v.certResolvers === undefined ? {} : { certResolvers: v.certResolvers }),
      ...(v.knownProviders === undefined ? {} : { knownProviders: v.knownProviders }),
      checkRules: v.checkRule !== undefined,
      checkBreakerExpressions: v.checkBreakerExpression !== undefined,
    },
  });
  if (a.kind === 'failed') throw new Error(a.message);
  if (a.kind !== 'file') throw new Error(`the configuration process answered ${a.kind} to file`);
  return a.update.config === undefined ? a.update : { ...a.update, locate: lazyLocator(read.texts) };
}

type LoadModule = typeof import('../config/dynamic/load.ts');

/**
 * Where a path of the merged files is, for the issues found later (a build error names a
 * service that does not exist): parsed again here on the first use only, which loads `yaml` and
 * `zod` into this process; a configuration that builds without errors never asks.
 */
function lazyLocator(texts: readonly DynamicText[]): Locator {
  let locate: Locator | undefined;
  return (path, target, offset) => {
    locate ??= loadModule<LoadModule>(import.meta.url, '../config/dynamic/load.ts').loadDynamic(texts).locate;
    return locate === undefined ? { exact: false } : locate(path, target, offset);
  };
}
