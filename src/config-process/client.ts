import { type ChildProcess, fork } from 'node:child_process';
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
 * At start, the child that loaded the static configuration stays for one more question, the
 * file provider's first (a spare: the start does not wait for a second child's start-up).
 */

const CHILD = new URL(import.meta.url.endsWith('.ts') ? './child.ts' : './child.js', import.meta.url);

/** How long a spare child waits for its second question before it is let go. */
const SPARE_MS = 10_000;

let spare: { readonly child: ChildProcess; readonly timer: NodeJS.Timeout } | undefined;

function forkChild(): ChildProcess {
  // No execArgv of ours (a preloaded `--import`, inspector or heap flags are the proxy's);
  // the environment is inherited: TRAFFIC_* overrides are read from the question, not from it.
  return fork(CHILD, [], {
    serialization: 'advanced',
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/**
 * How long a question may take, the child's start-up included (a large configuration takes a few
 * seconds): a child that hangs (a template that loops, a static file that is a FIFO nobody writes)
 * is killed, and the question fails, rather than stall the start or the file provider's watch
 * loop for good. `TM_CONFIG_PROCESS_TIMEOUT_MS` (read at each question) changes it: for tests,
 * not a configuration key.
 */
const ANSWER_MS = 60_000;

/**
 * The configuration process did not answer in time (`code` CONFIG_PROCESS_TIMEOUT). Not an
 * internal error: the same input would hang again, so the file provider asks again only once
 * the files change.
 */
export class ConfigProcessTimeout extends Error {
  readonly code = 'CONFIG_PROCESS_TIMEOUT';
}

function answerMs(): number {
  const ms = Number(process.env['TM_CONFIG_PROCESS_TIMEOUT_MS']);
  return Number.isFinite(ms) && ms > 0 ? ms : ANSWER_MS;
}

/** Asks a child (the spare, else a new one); `keep`: it stays as the spare once it answered. */
function ask(q: ConfigQuestion, keep = false): Promise<ConfigAnswer> {
  const s = spare;
  spare = undefined;
  if (s !== undefined) {
    clearTimeout(s.timer);
    s.child.ref();
    s.child.channel?.ref();
  }
  const child = s?.child ?? forkChild();
  const limit = answerMs();
  return new Promise((resolve, reject) => {
    let answer: ConfigAnswer | undefined;
    const settle = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('error', onError);
      child.off('exit', onExit);
    };
    const onError = (e: Error): void => {
      settle();
      reject(e);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      settle();
      if (answer !== undefined) resolve(answer);
      else
        reject(
          new Error(`the configuration process ended without an answer (${signal ?? `exit code ${code}`})`),
        );
    };
    const onMessage = (m: unknown): void => {
      answer = m as ConfigAnswer;
      if (!keep) return; // settled once the child is gone: none outlives its last question
      settle();
      keepAsSpare(child);
      resolve(answer);
    };
    const timer = setTimeout(() => {
      settle();
      child.kill('SIGKILL');
      // Answered, but did not exit: the answer stands.
      if (answer !== undefined) resolve(answer);
      else
        reject(
          new ConfigProcessTimeout(
            `the configuration process did not answer within ${limit / 1000} s; killed`,
          ),
        );
    }, limit);
    child.once('message', onMessage);
    child.once('error', onError);
    child.once('exit', onExit);
    child.send({ ...q, more: keep });
  });
}

function keepAsSpare(child: ChildProcess): void {
  // Neither the child nor its channel keeps this process alive, and it is let go after a while.
  child.unref();
  child.channel?.unref();
  const timer = setTimeout(dropSpareConfigProcess, SPARE_MS);
  timer.unref();
  spare = { child, timer };
  child.once('exit', () => {
    if (spare?.child !== child) return;
    clearTimeout(spare.timer);
    spare = undefined;
  });
}

/** Lets the spare child go (it exits when its channel closes): nothing will ask it. */
export function dropSpareConfigProcess(): void {
  const s = spare;
  spare = undefined;
  if (s === undefined) return;
  clearTimeout(s.timer);
  s.child.disconnect();
}

/**
 * loadStaticConfig() in the configuration process; installs the schemas' defaults it sends.
 * `keep`: the child stays as the spare for the next question (dropSpareConfigProcess).
 * Throws `cannot load the configuration (…)` when there is no answer (main() prints it).
 */
export async function loadStaticInChild(
  options: Omit<LoadStaticOptions, 'readFile'>,
  keep = false,
): Promise<PlainStatic> {
  // process.env is an exotic object: its own copy crosses.
  const a = await ask({ kind: 'static', options: { ...options, env: { ...options.env } } }, keep).catch(
    (e: unknown) => {
      throw new Error(`cannot load the configuration (${e instanceof Error ? e.message : String(e)})`);
    },
  );
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
      ...(v.defaultRuleSyntax === undefined ? {} : { defaultRuleSyntax: v.defaultRuleSyntax }),
      ...(v.internalServices === undefined ? {} : { internalServices: v.internalServices }),
      ...(v.certResolvers === undefined ? {} : { certResolvers: v.certResolvers }),
      ...(v.knownProviders === undefined ? {} : { knownProviders: v.knownProviders }),
      ...(v.debugLogGeneratedTemplate === true ? { debugLogGeneratedTemplate: true } : {}),
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
