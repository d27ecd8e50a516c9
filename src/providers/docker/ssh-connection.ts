import { spawn } from 'node:child_process';
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
 * stream with its stderr's last words.
 */
export function sshConnection(args: readonly string[]): Duplex {
  const child = spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    stderr = (stderr + d).slice(-1000);
  });
  const conn = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      child.stdin.write(chunk, cb);
    },
    final(cb) {
      child.stdin.end(cb);
    },
    read() {
      child.stdout.resume();
    },
    destroy(err, cb) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      cb(err);
    },
  });
  child.stdout.on('data', (c: Buffer) => {
    if (!conn.push(c)) child.stdout.pause();
  });
  child.stdout.on('end', () => conn.push(null));
  child.stdin.on('error', (e) => conn.destroy(e));
  child.on('error', (e: NodeJS.ErrnoException) =>
    conn.destroy(
      new EngineError(e.code === 'ENOENT' ? 'ssh: executable not found in PATH' : `ssh: ${e.message}`),
    ),
  );
  child.on('close', (code, signal) => {
    if (code !== 0 && !conn.destroyed)
      conn.destroy(
        new EngineError(
          `ssh ${args.join(' ')} exited with ${signal ?? `code ${code}`}${stderr.trim() === '' ? '' : `: ${stderr.trim()}`}`,
        ),
      );
  });
  return conn;
}
