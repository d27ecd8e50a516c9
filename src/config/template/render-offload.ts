import { lookup } from 'node:dns/promises';
import { runWorkerSync, type SyncReplyChannel } from '../sync-worker.ts';
import type { Rendered } from './exec.ts';
import type { HostTable } from './sprig-extra.ts';

/*
 * A file-provider template that the render here cannot finish runs again on a worker thread:
 * one that calls getHostByName (its names are looked up there, with node:dns, between renders),
 * or one deeper than this thread's stack (Go's limits are 100000 nested {{template}} calls and
 * 10000 open parentheses; the worker's stack holds them). The caller waits for it, as the
 * configuration's readers are synchronous (config/yaml-offload.ts does the same for YAML).
 */

export type OffloadedRender = Rendered | { readonly error: string; readonly offset: number };

export interface RenderRequest extends SyncReplyChannel {
  readonly src: string;
  readonly env: NodeJS.ProcessEnv;
  readonly fileProvider: boolean;
}

const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './render-worker.ts' : './render-worker.js',
  import.meta.url,
);

/** A stack for Go's depths: 100000 template calls each nesting a few blocks. */
const STACK_MB = 512;
/** One name's lookup (Go's resolver gives up after its attempts too: the name then has no address). */
export const LOOKUP_TIMEOUT_MS = 5000;
/** Renders again at most this many times for names a render found (a name made of a looked-up address). */
const LOOKUP_ROUNDS = 8;

/** Renders on a worker thread and waits; undefined when no worker could do it. */
export function renderOffThread(
  src: string,
  env: NodeJS.ProcessEnv,
  fileProvider: boolean,
): OffloadedRender | undefined {
  return runWorkerSync<OffloadedRender>(
    WORKER_URL,
    { src, env: { ...env }, fileProvider },
    { stackSizeMb: STACK_MB, maxYoungGenerationSizeMb: 16 },
  );
}

/** Looks the table's missing names up (all addresses, as Go's net.LookupHost), each bounded. */
export async function lookUpMissing(hosts: HostTable): Promise<void> {
  const names = [...hosts.missing];
  hosts.missing.clear();
  await Promise.all(
    names.map(async (name) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), LOOKUP_TIMEOUT_MS);
      });
      try {
        const found = await Promise.race([lookup(name, { all: true, verbatim: true }), timeout]);
        hosts.resolved.set(
          name,
          found.map((a) => a.address),
        );
      } catch {
        hosts.resolved.set(name, []);
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}

export { LOOKUP_ROUNDS };
