import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatIssue } from '../config/issues.ts';
import type { Logger } from '../core/logger.ts';
import type { ApiChange, ApiProvider } from '../providers/api/index.ts';
import type { ApplyOutcome, ConfigWatcher } from '../runtime/config-watcher.ts';
import { ifMatches, sendError, sendJson } from './http-io.ts';

interface Waiter {
  readonly resolve: (o: ApplyOutcome | undefined) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The write side of the admin API: one change at a time (a second writer waits for the first's
 * outcome, so that If-Match and rollback see settled state), each validated, committed to the
 * API provider, and answered once the watcher has applied or rejected it.
 */
export class ApiWrites {
  readonly #api: ApiProvider;
  readonly #watcher: ConfigWatcher;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #waiters: Waiter[] = [];
  #queue: Promise<void> = Promise.resolve();

  constructor(api: ApiProvider, watcher: ConfigWatcher, logger: Logger, timeoutMs: number) {
    this.#api = api;
    this.#watcher = watcher;
    this.#logger = logger;
    this.#timeoutMs = timeoutMs;
    watcher.onOutcome((o) => this.#onOutcome(o));
  }

  /** PUT, PATCH, DELETE of one object, or PUT of the whole configuration. */
  change(req: IncomingMessage, res: ServerResponse, change: ApiChange, dryRun: boolean): Promise<void> {
    return this.#serial(async () => {
      if (!this.#preconditionHolds(req, res)) return;
      const p = this.#api.propose(change);
      const issues = p.issues.map(formatIssue);
      if (p.missing) {
        sendError(res, 404, p.issues[0]?.message ?? 'not found');
        return;
      }
      if (!p.ok) {
        sendError(res, 400, 'invalid configuration', { issues, diff: p.diff });
        return;
      }
      if (dryRun) {
        sendJson(res, 200, { issues, diff: p.diff });
        return;
      }
      if (p.diff.length === 0) {
        // Nothing changes: no commit, no history entry, no new generation.
        this.#answer(res, this.#watcher.generation);
        return;
      }
      await this.#apply(res, () => {
        this.#api.commit(p.config);
        return true;
      });
    });
  }

  rollback(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.#serial(async () => {
      if (!this.#preconditionHolds(req, res)) return;
      await this.#apply(res, () => this.#api.rollback());
    });
  }

  #serial(fn: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(fn);
    this.#queue = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  #preconditionHolds(req: IncomingMessage, res: ServerResponse): boolean {
    const ifMatch = req.headers['if-match'];
    if (ifMatch === undefined || ifMatches(ifMatch, this.#api.etag)) return true;
    sendError(res, 412, 'the API configuration has changed (If-Match does not match)', {
      etag: this.#api.etag,
    });
    return false;
  }

  /** Runs `act` (commit or rollback) and answers with the watcher's outcome for it. */
  async #apply(res: ServerResponse, act: () => boolean): Promise<void> {
    const waiter = this.#wait();
    let acted: boolean;
    try {
      acted = act();
    } catch (e) {
      this.#cancel(waiter.waiter);
      this.#logger.error('admin API write failed', { error: e });
      sendError(res, 500, `the change could not be saved: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (!acted) {
      this.#cancel(waiter.waiter);
      sendError(res, 409, 'there is no previous API configuration to roll back to');
      return;
    }
    const outcome = await waiter.promise;
    if (outcome === undefined) {
      sendError(res, 504, 'the change was saved but the configuration watcher has not applied it yet');
      return;
    }
    if (!outcome.applied) {
      // The watcher kept the provider's previous configuration; so do we.
      this.#api.revertUnapplied();
      sendError(res, 400, 'the configuration was rejected', { issues: outcome.issues.map(formatIssue) });
      return;
    }
    this.#answer(res, outcome.generation);
  }

  #answer(res: ServerResponse, generation: number): void {
    const etag = this.#api.etag;
    sendJson(res, 200, { generation, etag }, { etag: `"${etag}"` });
  }

  #wait(): { waiter: Waiter; promise: Promise<ApplyOutcome | undefined> } {
    let waiter: Waiter | undefined;
    const promise = new Promise<ApplyOutcome | undefined>((resolve) => {
      waiter = { resolve, timer: undefined };
    });
    const w = waiter!;
    w.timer = setTimeout(() => {
      this.#cancel(w);
      w.resolve(undefined);
    }, this.#timeoutMs);
    w.timer.unref();
    this.#waiters.push(w);
    return { waiter: w, promise };
  }

  #cancel(w: Waiter): void {
    if (w.timer !== undefined) clearTimeout(w.timer);
    const i = this.#waiters.indexOf(w);
    if (i !== -1) this.#waiters.splice(i, 1);
  }

  #onOutcome(o: ApplyOutcome): void {
    // Outcomes of other providers' updates are not ours; an applied outcome may not name its
    // provider (a rebuild of the whole), and then it is the one our commit caused.
    if (o.provider !== undefined && o.provider !== '' && o.provider !== 'api') return;
    const w = this.#waiters.shift();
    if (w === undefined) return;
    if (w.timer !== undefined) clearTimeout(w.timer);
    w.resolve(o);
  }
}
