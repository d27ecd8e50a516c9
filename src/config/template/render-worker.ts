import { workerData } from 'node:worker_threads';
import { replySync } from '../sync-worker.ts';
import { isStackOverflow } from './exec.ts';
import { isTemplateError, renderRendered } from './index.ts';
import { LOOKUP_ROUNDS, lookUpMissing, type OffloadedRender, type RenderRequest } from './render-offload.ts';
import { emptyHostTable } from './sprig-extra.ts';

// The worker of renderOffThread: renders, looks up the names getHostByName asked for, renders
// again with them, and replies once no name is missing.
const request = workerData as RenderRequest;
void replySync(request, async (): Promise<OffloadedRender> => {
  const { src, env, fileProvider } = request;
  const hosts = emptyHostTable();
  for (let round = 0; ; round++) {
    let result: OffloadedRender;
    try {
      result = renderRendered(src, env, fileProvider, hosts, null);
    } catch (e) {
      if (isTemplateError(e)) result = { error: e.message, offset: e.offset };
      else if (isStackOverflow(e))
        result = { error: 'the template nests too deeply: the stack is exhausted', offset: 0 };
      else throw e;
    }
    if (hosts.missing.size === 0) return result;
    // Names still asked for after the last round have no address (sprig's error for them).
    if (round >= LOOKUP_ROUNDS) {
      for (const name of hosts.missing) hosts.resolved.set(name, []);
      hosts.missing.clear();
    } else await lookUpMissing(hosts);
  }
});
