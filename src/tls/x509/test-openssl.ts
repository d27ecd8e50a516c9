/**
 * The openssl command line as an independent parser for the tests: what we encode must read the
 * same to OpenSSL as to node (which links a different build of it) and to our own reader.
 */
import { spawnSync } from 'node:child_process';
import { toolPath } from '../../../test/helpers/tools.ts';

export interface OpensslResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function openssl(args: readonly string[], input: string): OpensslResult {
  const result = spawnSync(toolPath('openssl'), args, { input, encoding: 'utf8' });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `openssl x509 -noout -text` plus ISO-8601 validity dates; throws when openssl rejects the input. */
export function x509Text(certPem: string): string {
  const result = openssl(['x509', '-noout', '-text', '-dates', '-dateopt', 'iso_8601'], certPem);
  if (result.status !== 0) throw new Error(`openssl x509 failed: ${result.stderr}`);
  return result.stdout;
}

/** The text of one `X509v3 <name>:` block: its header line (with `critical`) and its value line. */
export function extensionBlock(text: string, name: string): { header: string; value: string } | undefined {
  const lines = text.split('\n');
  const index = lines.findIndex((line) => line.trim().startsWith(`${name}:`));
  if (index < 0) return undefined;
  return { header: lines[index]!.trim(), value: (lines[index + 1] ?? '').trim() };
}

/** notBefore/notAfter as printed by `-dates -dateopt iso_8601` (e.g. `2026-11-25 21:27:13Z`). */
export function x509Dates(text: string): { notBefore: Date; notAfter: Date } {
  const pick = (key: string): Date => {
    const match = new RegExp(`^${key}=(\\S+) (\\S+)$`, 'm').exec(text);
    if (match === null) throw new Error(`no ${key} in openssl output`);
    return new Date(`${match[1]}T${match[2]}`);
  };
  return { notBefore: pick('notBefore'), notAfter: pick('notAfter') };
}
