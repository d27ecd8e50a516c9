/**
 * What `--mode grpc` adds to the runner: the Node h2c backend it proxies to, the gRPC request
 * h2load sends (one 12-byte message, `content-type: application/grpc`, `te: trailers`), the
 * readiness check (a gRPC call over h2c: the proxies listen for HTTP/2 only), and a check that
 * every response carried its message (h2load counts HTTP statuses, and a gRPC error is a 200).
 */
import { writeFileSync } from 'node:fs';
import { connect } from 'node:http2';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GRPC_REPLY } from './grpc-backend.ts';
import type { ManagedProcess } from './process-group.ts';
import type { BenchPaths, ProxyCommand } from './proxies.ts';

export const GRPC_BACKEND_PORT = 9003;
export const GRPC_PATH = '/bench.Echo/Unary';
const MESSAGE = Buffer.from('hello world\n');
/** The request body: one uncompressed gRPC message (flag, 4-byte length, message). */
export const GRPC_REQUEST = Buffer.concat([Buffer.from([0, 0, 0, 0, MESSAGE.length]), MESSAGE]);

export function grpcBackendCommand(paths: BenchPaths): ProxyCommand {
  return {
    file: paths.nodePath,
    args: [join(paths.repoRoot, 'bench/lib/grpc-backend.ts'), String(GRPC_BACKEND_PORT)],
    cwd: paths.repoRoot,
  };
}

/** Writes the request body where h2load reads it (`-d`); returns h2load's extra options. */
export function grpcH2loadArgs(tmpDir: string): string[] {
  const file = join(tmpDir, 'grpc-request.bin');
  writeFileSync(file, GRPC_REQUEST);
  return ['-H', 'content-type: application/grpc', '-H', 'te: trailers', '-d', file];
}

/** One gRPC call over h2c; undefined when it succeeded (200, its message, grpc-status 0). */
export function probeGrpc(url: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const session = connect(u.origin);
    let settled = false;
    const done = (problem: string | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve(problem);
    };
    const timer = setTimeout(() => done(`no answer within ${timeoutMs} ms`), timeoutMs);
    session.on('error', (e: Error) => done(e.message));
    const req = session.request({
      ':method': 'POST',
      ':path': u.pathname,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    let status = 0;
    let grpcStatus: unknown;
    let bytes = 0;
    req.on('response', (h) => {
      status = Number(h[':status']);
      grpcStatus = h['grpc-status'];
    });
    req.on('trailers', (t) => {
      grpcStatus = t['grpc-status'];
    });
    req.on('data', (d: Buffer) => {
      bytes += d.length;
    });
    req.on('error', (e: Error) => done(e.message));
    req.on('end', () =>
      done(
        status === 200 && grpcStatus === '0' && bytes === GRPC_REPLY.length
          ? undefined
          : `HTTP ${status}, grpc-status ${String(grpcStatus)}, ${bytes} body bytes`,
      ),
    );
    req.end(GRPC_REQUEST);
  });
}

/** Polls a gRPC call until one succeeds; throws when the deadline passes or `proc` exits first. */
export async function waitForGrpc(url: string, timeoutMs: number, proc: ManagedProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'not tried';
  while (Date.now() < deadline) {
    const exit = proc.exitInfo;
    if (exit !== undefined) {
      throw new Error(`${proc.name} exited (${exit.signal ?? `code ${exit.code}`}) before answering ${url}`);
    }
    const problem = await probeGrpc(url, Math.min(1000, Math.max(1, deadline - Date.now())));
    if (problem === undefined) return;
    last = problem;
    await sleep(100);
  }
  throw new Error(`${proc.name} did not answer a gRPC call to ${url} within ${timeoutMs} ms (last: ${last})`);
}

/**
 * Responses that came without their message: h2load counts a 200 as a success, and a gRPC error
 * (trailers-only, grpc-status ≠ 0) is a 200 with no body. Null when h2load gave no byte count.
 */
export function missingReplies(done: number, dataBytes: number | null): number | null {
  if (dataBytes === null) return null;
  const expected = done * GRPC_REPLY.length;
  return dataBytes >= expected ? 0 : Math.ceil((expected - dataBytes) / GRPC_REPLY.length);
}
