/**
 * Go's os.PathError text for a file that could not be read (`open /x.crt: no such file or
 * directory`, `read /etc: is a directory`), from a node error: the operation, the path, and the
 * system's error in Go's words (its syscall.Errno strings, glibc's strerror texts lower-cased,
 * where libuv's differ: `illegal operation on a directory`). Made only when a read has failed.
 */

/** Go's text for the errno codes a configuration file read meets. */
const GO_ERRNO: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in system',
  EIO: 'input/output error',
  ENXIO: 'no such device or address',
};

interface NodeFsError {
  readonly code?: unknown;
  readonly syscall?: unknown;
  readonly message?: unknown;
}

/** `open /x.crt: no such file or directory`; `path` as the configuration names it. */
export function goPathError(err: unknown, path: string): string {
  const e = (typeof err === 'object' && err !== null ? err : {}) as NodeFsError;
  const code = typeof e.code === 'string' ? e.code : undefined;
  // Go's os.ReadFile opens, then reads: a directory fails at the read.
  const op = code === 'EISDIR' ? 'read' : typeof e.syscall === 'string' ? e.syscall : 'open';
  const known = code === undefined ? undefined : GO_ERRNO[code];
  // libuv's message: `ENOENT: no such file or directory, open '/x'`: its description otherwise.
  const text = typeof e.message === 'string' ? e.message : String(err);
  const described = /^[A-Z]+: ([^,]+)/.exec(text)?.[1];
  return `${op} ${path}: ${known ?? described ?? text}`;
}

/** Whether the read failed because nothing is at the path (Traefik then reads the path as content). */
export function isMissingFile(err: unknown): boolean {
  const code = (err as NodeFsError | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
