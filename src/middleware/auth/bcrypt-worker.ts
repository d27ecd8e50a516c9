/**
 * The thread that runs bcrypt checks for BcryptVerifier (bcrypt-verifier.ts), so that the ~50–300 ms
 * of CPU a check costs never blocks the event loop that serves requests.
 */
import { isUtf8 } from 'node:buffer';
import { parentPort } from 'node:worker_threads';
import { compareSync } from 'bcryptjs';
import { bcryptBytes } from './bcrypt-bytes.ts';

interface Job {
  readonly id: number;
  /** The password's bytes, one character a byte. */
  readonly password: string;
  readonly hash: string;
}

const port = parentPort;
if (port !== null) {
  port.on('message', (job: Job) => {
    let ok = false;
    try {
      // $2x$ and $2y$ are computed as $2b$ (go-http-auth does the same for 7-bit passwords).
      const hash = `$2b$${job.hash.slice(4)}`;
      // The password's bytes (a latin1 string): as text when they are UTF-8 (bcryptjs hashes
      // its UTF-8), else as the bytes themselves, as Go's bcrypt takes them.
      const pw = Buffer.from(job.password, 'latin1');
      ok = isUtf8(pw) ? compareSync(pw.toString('utf8'), hash) : bcryptBytes(pw, hash);
    } catch {
      ok = false;
    }
    port.postMessage({ id: job.id, ok });
  });
}
