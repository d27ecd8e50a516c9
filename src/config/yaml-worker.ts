import { workerData } from 'node:worker_threads';
import { replySync } from './sync-worker.ts';
import type { OffloadedParse, OffloadRequest } from './yaml-offload.ts';
import { parseYamlHere } from './yaml-source.ts';

// The worker of parseYamlOffThread: one parse, the reply, and the thread ends.
const request = workerData as OffloadRequest;
void replySync(request, (): OffloadedParse => {
  const { data, issues } = parseYamlHere(request.text, request.file);
  return { data, issues };
});
