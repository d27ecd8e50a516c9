/**
 * The thread that runs bcrypt checks for BcryptVerifier (bcrypt-verifier.ts), so that the ~50–300 ms
 * of CPU a check costs never blocks the event loop that serves requests.
 */
import { parentPort } from 'node:worker_threads';
import { compareSync } from 'bcryptjs';

interface Job {
  readonly id: number;
  readonly password: string;
  readonly hash: string;
}

const port = parentPort;
if (port !== null) {
  port.on('message', (job: Job) => {
    let ok = false;
    try {
      // $2x$ and $2y$ are computed as $2b$ (go-http-auth does the same for 7-bit passwords).
      ok = compareSync(job.password, `$2b$${job.hash.slice(4)}`);
    } catch {
      ok = false;
    }
    port.postMessage({ id: job.id, ok });
  });
}
