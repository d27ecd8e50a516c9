import { join } from 'node:path';
import type { ProcessSupervisor } from './process-group.ts';

/** What bench/lib/handshake-client.ts prints (one JSON line) after its run. */
export interface HandshakeClientReport {
  /** Connections that completed a full handshake and a 2xx response, then closed. */
  handshakes: number;
  durationS: number;
  /** Connect → handshake → request → response → close, per successful connection. */
  meanMs: number;
  maxMs: number;
  errors: {
    /** The connection failed (refused, reset, TLS alert). */
    connect: number;
    /** The server closed without a 2xx status line. */
    status: number;
    /** The server resumed a session although none was offered: not a full handshake. */
    resumed: number;
    timeout: number;
  };
  /** Negotiated protocol version → connections ("TLSv1.3"). */
  protocols: Record<string, number>;
  ciphers: Record<string, number>;
  /** Key exchange group → connections ("X25519"). */
  groups: Record<string, number>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function counts(v: unknown, what: string): Record<string, number> {
  if (!isRecord(v) || !Object.values(v).every((n) => typeof n === 'number')) {
    throw new Error(`handshake client report: ${what} is not a table of counts`);
  }
  return v as Record<string, number>;
}

/** The last JSON line of the client's stdout, validated. */
export function parseHandshakeReport(out: string): HandshakeClientReport {
  const line = out.trim().split('\n').at(-1) ?? '';
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    throw new Error(`unrecognised handshake client output:\n${out}`);
  }
  if (!isRecord(raw)) throw new Error(`unrecognised handshake client output:\n${out}`);
  const { handshakes, durationS, meanMs, maxMs } = raw;
  if (![handshakes, durationS, meanMs, maxMs].every((n) => typeof n === 'number')) {
    throw new Error(`handshake client report lacks its totals:\n${out}`);
  }
  const errors = counts(raw['errors'], 'errors');
  return {
    handshakes: handshakes as number,
    durationS: durationS as number,
    meanMs: meanMs as number,
    maxMs: maxMs as number,
    errors: {
      connect: errors['connect'] ?? 0,
      status: errors['status'] ?? 0,
      resumed: errors['resumed'] ?? 0,
      timeout: errors['timeout'] ?? 0,
    },
    protocols: counts(raw['protocols'], 'protocols'),
    ciphers: counts(raw['ciphers'], 'ciphers'),
    groups: counts(raw['groups'] ?? {}, 'groups'),
  };
}

export interface HandshakeRun {
  readonly cpu: string;
  readonly nodePath: string;
  readonly repoRoot: string;
  readonly host: string;
  readonly port: number;
  readonly servername: string;
  readonly concurrency: number;
  readonly durationS: number;
}

/** Runs the handshake client pinned to `cpu` and returns its stdout (the report line). */
export async function runHandshakeClient(supervisor: ProcessSupervisor, run: HandshakeRun): Promise<string> {
  const args = [
    '-c',
    String(run.cpu),
    run.nodePath,
    join(run.repoRoot, 'bench/lib/handshake-client.ts'),
    run.host,
    String(run.port),
    run.servername,
    String(run.concurrency),
    String(run.durationS),
  ];
  const client = supervisor.spawn('handshake-client', 'taskset', args, { output: { kind: 'capture' } });
  const watchdog = setTimeout(() => client.signalGroup('SIGKILL'), (run.durationS + 15) * 1000);
  try {
    const exit = await client.exited;
    if (exit.code !== 0) {
      throw new Error(
        `handshake client failed (${exit.signal ?? `exit ${exit.code}`}): ${client.stderr.trim() || client.stdout}`,
      );
    }
    return client.stdout;
  } finally {
    clearTimeout(watchdog);
    await supervisor.stop(client, 1000);
  }
}
