import { workerData } from 'node:worker_threads';
import type { OffloadedParse, OffloadRequest } from './yaml-offload.ts';
import { parseYamlHere } from './yaml-source.ts';

// The worker of parseYamlOffThread: one parse, the reply, and the thread ends.
const { text, file, done, port } = workerData as OffloadRequest;
try {
  const { data, issues } = parseYamlHere(text, file);
  const reply: OffloadedParse = { data, issues };
  port.postMessage(reply);
} finally {
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
  port.close();
}
