/**
 * Structured logging. One JSON object per line (or key=value text), written synchronously to a
 * file descriptor in small batches: a proxy's log must not allocate promises per line.
 */
import { writeSync } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  enabled(level: LogLevel): boolean;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level: LogLevel;
  format: 'json' | 'text';
  /** Where lines go; defaults to stderr (fd 2). */
  write?: (line: string) => void;
  wallNow?: () => number;
  /** Each record that is written is given here too (`log.otlp`: observability/otlp-logs.ts). */
  tee?: LogTee | undefined;
}

/** Receives each written record: its level, message, time (epoch ms) and fields. */
export interface LogTee {
  record(level: LogLevel, msg: string, epochMs: number, fields: LogFields): void;
}

export function createLogger(opts: LoggerOptions, base: LogFields = {}): Logger {
  const min = LEVELS[opts.level];
  const write = opts.write ?? ((line: string) => writeSync(2, line));
  const now = opts.wallNow ?? Date.now;
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (LEVELS[level] < min) return;
    const at = now();
    const record: LogFields = { time: new Date(at).toISOString(), level, msg, ...base, ...fields };
    write(opts.format === 'json' ? `${safeJson(record)}\n` : `${toText(record)}\n`);
    opts.tee?.record(level, msg, at, { ...base, ...fields });
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    enabled: (level) => LEVELS[level] >= min,
    child: (fields) => createLogger(opts, { ...base, ...fields }),
  };
}

/** A logger that drops everything, for tests that do not look at logs. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  enabled: () => false,
  child: () => silentLogger,
};

function safeJson(record: LogFields): string {
  return JSON.stringify(record, (_k, v: unknown) =>
    v instanceof Error ? { name: v.name, message: v.message, code: (v as { code?: unknown }).code } : v,
  );
}

function toText(record: LogFields): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(record)) {
    const s = typeof v === 'string' ? v : v instanceof Error ? v.message : JSON.stringify(v);
    parts.push(`${k}=${/[\s"=]/.test(s ?? '') ? JSON.stringify(s) : s}`);
  }
  return parts.join(' ');
}
