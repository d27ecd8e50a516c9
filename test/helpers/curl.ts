/**
 * Runs the real curl binary as an e2e client and reports what it saw: exit code, the status and
 * headers of each transfer (from curl's own `-w` JSON), and the body bytes (or only their SHA-256
 * for large downloads, hashed while they stream).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { toolPath } from './tools.ts';

/** Resolve it with toolPath(CURL) (test/helpers/tools.ts): a missing curl then names its package. */
export const CURL = 'curl';

/** One transfer (one URL) as curl reports it. */
export interface CurlTransfer {
  readonly status: number;
  /** Response fields of the final response, names lowercased, every value kept. */
  readonly headers: Readonly<Record<string, readonly string[]>>;
  /** curl's `%{json}` write-out: num_connects, size_upload, size_download, exitcode, … */
  readonly info: Readonly<Record<string, unknown>>;
}

export interface CurlResult {
  readonly exitCode: number | null;
  /** Every transfer of the invocation, in URL order. */
  readonly transfers: readonly CurlTransfer[];
  /** The last transfer's status (0 when none completed). */
  readonly status: number;
  readonly headers: Readonly<Record<string, readonly string[]>>;
  /** The bodies of all transfers, concatenated (empty when `keepBody` is false). */
  readonly body: Buffer;
  readonly bodyBytes: number;
  readonly sha256: string;
  /** curl's stderr without the write-out: error messages, and `-v` traces. */
  readonly stderr: string;
}

export interface CurlOptions {
  /** Keep the body in memory (default true); false only hashes and counts it. */
  readonly keepBody?: boolean;
  /** Written to curl's stdin (for `--data-binary @-` or `-T -`). */
  readonly stdin?: Buffer;
}

const MARK = '@@curl-w@@';
const HMARK = '@@curl-h@@';
const EMARK = '@@curl-e@@';

/**
 * `curl -sS --http1.1 <args>` with a write-out per transfer on stderr. A `--max-time` safety net
 * is added unless the caller gives one, so a proxy bug fails the test instead of hanging it.
 */
export function curl(args: readonly string[], opts: CurlOptions = {}): Promise<CurlResult> {
  const keepBody = opts.keepBody ?? true;
  const full = [
    '-sS',
    '--http1.1',
    ...(args.includes('--max-time') ? [] : ['--max-time', '60']),
    '-w',
    `%{stderr}${MARK}%{json}${HMARK}%{header_json}${EMARK}\n`,
    ...args,
  ];
  const child = spawn(toolPath(CURL), full, {
    stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let bodyBytes = 0;
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    hash.update(d);
    bodyBytes += d.length;
    if (keepBody) chunks.push(d);
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const transfers: CurlTransfer[] = [];
      let rest = '';
      let pos = 0;
      for (;;) {
        const m = err.indexOf(MARK, pos);
        if (m === -1) {
          rest += err.slice(pos);
          break;
        }
        rest += err.slice(pos, m);
        const h = err.indexOf(HMARK, m);
        const e = err.indexOf(EMARK, h);
        const info = JSON.parse(err.slice(m + MARK.length, h)) as Record<string, unknown>;
        const hj = err.slice(h + HMARK.length, e).trim();
        const headers = (hj === '' ? {} : JSON.parse(hj)) as Record<string, string[]>;
        transfers.push({ status: Number(info['http_code'] ?? 0), headers, info });
        pos = e + EMARK.length + 1;
      }
      const last = transfers[transfers.length - 1];
      resolve({
        exitCode: code,
        transfers,
        status: last?.status ?? 0,
        headers: last?.headers ?? {},
        body: Buffer.concat(chunks),
        bodyBytes,
        sha256: hash.digest('hex'),
        stderr: rest,
      });
    });
  });
}

/** Total TCP connections curl opened over all transfers of one invocation. */
export function connectsOf(r: CurlResult): number {
  return r.transfers.reduce((n, t) => n + Number(t.info['num_connects'] ?? 0), 0);
}
