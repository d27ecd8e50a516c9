import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { Agent } from 'node:http';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { EngineError } from '../engine-client.ts';

/** POSIX shell quoting where needed (what docker/cli's syntax.Quote gives for ordinary values). */
function quote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The `ssh` arguments for a Docker endpoint `ssh://[user@]host[:port][/path]`, as docker/cli's
 * connhelper (cli/connhelper/connhelper.go getConnectionHelper and ssh/ssh.go Spec.Command) that
 * Traefik's docker provider uses (pkg/provider/docker/shared.go getClientOpts): `-l user`,
 * `-p port`, `-o ConnectTimeout=30` (one argument), `-T`, `--`, the host, then the remote command
 * as one string, `docker system dial-stdio` (`docker --host=unix://<path> system dial-stdio`
 * with a path). A password, a query or a fragment is refused, as there.
 */
export function sshArgs(endpoint: string): string[] {
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    throw new EngineError(`docker endpoint ${JSON.stringify(endpoint)}: invalid ssh URL`);
  }
  const fail = (m: string): never => {
    throw new EngineError(
      `docker endpoint ${JSON.stringify(endpoint)}: ssh host connection is not valid: ${m}`,
    );
  };
  if (u.password !== '') fail('plain-text password is not supported');
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (host === '') fail('hostname is empty');
  if (u.search !== '') fail(`query parameters are not allowed: ${JSON.stringify(u.search.slice(1))}`);
  if (u.hash !== '') fail(`fragments are not allowed: ${JSON.stringify(u.hash.slice(1))}`);
  const args: string[] = [];
  if (u.username !== '') args.push('-l', quote(decodeURIComponent(u.username)));
  if (u.port !== '') args.push('-p', quote(u.port));
  args.push('-o ConnectTimeout=30', '-T', '--', quote(host));
  const path = decodeURIComponent(u.pathname);
  const remote =
    path.replace(/^\/+|\/+$/g, '') === ''
      ? ['docker', 'system', 'dial-stdio']
      : ['docker', `--host=unix://${path}`, 'system', 'dial-stdio'];
  args.push(remote.map(quote).join(' '));
  return args;
}

/**
 * One connection to the remote daemon: `ssh <args>` (from PATH, in its own session so that it
 * never prompts on our terminal, as docker/cli's commandconn), its stdin and stdout as the
 * stream HTTP runs over. Destroying the stream ends the process; the process failing ends the
 * stream with its stderr's last words. It has the few socket methods node:http's keep-alive
 * Agent calls (ref/unref, setKeepAlive, setNoDelay, an idle setTimeout).
 */
class SshConnection extends Duplex {
  readonly #child: ChildProcessWithoutNullStreams;
  #idle: NodeJS.Timeout | undefined;
  timeout = 0;

  constructor(args: readonly string[]) {
    super();
    const child = spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.#child = child;
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      stderr = (stderr + d).slice(-1000);
    });
    child.stdout.on('data', (c: Buffer) => {
      this.#idle?.refresh();
      if (!this.push(c)) child.stdout.pause();
    });
    child.stdout.on('end', () => this.push(null));
    child.stdin.on('error', (e) => this.destroy(e));
    child.on('error', (e: NodeJS.ErrnoException) =>
      this.destroy(
        new EngineError(e.code === 'ENOENT' ? 'ssh: executable not found in PATH' : `ssh: ${e.message}`),
      ),
    );
    child.on('close', (code, signal) => {
      if (this.destroyed) return;
      if (code === 0) this.destroy();
      else
        this.destroy(
          new EngineError(
            `ssh ${args.join(' ')} exited with ${signal ?? `code ${code}`}${stderr.trim() === '' ? '' : `: ${stderr.trim()}`}`,
          ),
        );
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.#idle?.refresh();
    this.#child.stdin.write(chunk, cb);
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.#child.stdin.end(cb);
  }

  override _read(): void {
    this.#child.stdout.resume();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    if (this.#idle !== undefined) clearTimeout(this.#idle);
    const c = this.#child;
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    cb(err);
  }

  ref(): this {
    this.#child.ref();
    for (const s of [this.#child.stdin, this.#child.stdout, this.#child.stderr]) (s as Socket).ref?.();
    return this;
  }

  unref(): this {
    this.#child.unref();
    for (const s of [this.#child.stdin, this.#child.stdout, this.#child.stderr]) (s as Socket).unref?.();
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  /** Emits `timeout` after `ms` without traffic (the Agent then drops an idle connection). */
  setTimeout(ms: number, cb?: () => void): this {
    if (this.#idle !== undefined) clearTimeout(this.#idle);
    this.#idle = undefined;
    this.timeout = ms;
    if (cb !== undefined) this.once('timeout', cb);
    if (ms > 0) {
      this.#idle = setTimeout(() => this.emit('timeout'), ms);
      this.#idle.unref();
    }
    return this;
  }
}

/**
 * The keep-alive agent of an `ssh://` endpoint, as Go's http.Transport over the connection helper
 * keeps idle connections for the next call: at most `maxSockets` ssh processes (the events stream
 * holds one for its life), an idle one ended after 30 s. `destroy()` ends them all.
 */
export class SshAgent extends Agent {
  readonly #args: readonly string[];

  constructor(args: readonly string[]) {
    super({ keepAlive: true, maxSockets: 3, timeout: 30_000 });
    this.#args = args;
  }

  override createConnection(): Duplex {
    return new SshConnection(this.#args);
  }
}
