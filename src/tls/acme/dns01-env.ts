/**
 * lego's way of configuring a DNS provider, which Traefik users already have in their
 * environment: `NAME`, or else the contents of the file named by `NAME_FILE` (how Docker and
 * Kubernetes secrets are mounted). Problems are collected, not thrown one at a time, so that a
 * start-up error names every variable that needs fixing.
 */

import { readFileSync } from 'node:fs';
import { parseGoBool } from '../../core/go-bool.ts';

/** A DNS provider's environment does not make sense: the proxy must not start with it. */
export class Dns01ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Dns01ConfigError';
  }
}

export class LegoEnv {
  readonly #env: NodeJS.ProcessEnv;
  readonly #readFile: (path: string) => string;
  readonly problems: string[] = [];

  constructor(env: NodeJS.ProcessEnv, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')) {
    this.#env = env;
    this.#readFile = readFile;
  }

  /** `name`'s value, '' when neither it nor `name_FILE` is set (lego: an empty value is unset). */
  get(name: string): string {
    const direct = this.#env[name];
    if (direct !== undefined && direct !== '') return direct;
    const file = this.#env[`${name}_FILE`];
    if (file === undefined || file === '') return '';
    try {
      // lego drops one trailing newline: the one editors and `echo` add.
      return this.#readFile(file).replace(/\r?\n$/, '');
    } catch (e) {
      const reason = (e as { code?: string }).code ?? (e as Error).message;
      this.problems.push(`cannot read ${name}_FILE (${file}): ${reason}`);
      return '';
    }
  }

  /** A file a variable names (RFC2136_TSIG_FILE), through the same reader as `NAME_FILE`; throws. */
  readFile(path: string): string {
    return this.#readFile(path);
  }

  /** A required variable: a problem naming it when it is unset. */
  require(name: string, provider: string): string {
    const known = this.problems.length;
    const v = this.get(name);
    // An unreadable NAME_FILE has been reported already, and more precisely.
    if (v === '' && this.problems.length === known) {
      this.problems.push(`the ${provider} provider needs the environment variable ${name} (or ${name}_FILE)`);
    }
    return v;
  }

  /** The value of the first of `names` that is set (lego's GetWithFallback), '' when none is. */
  first(names: readonly string[]): string {
    for (const name of names) {
      const v = this.get(name);
      if (v !== '') return v;
    }
    return '';
  }

  /**
   * A whole number (lego's GetOrDefaultInt, for TTLs). lego falls back to the default on a
   * malformed value; we say so. A value under `min` is an error, as lego's providers make it.
   */
  integer(name: string, defaultValue: number, min = 0): number {
    const v = this.get(name);
    if (v === '') return defaultValue;
    if (!/^\d+$/.test(v)) {
      this.problems.push(`${name}=${JSON.stringify(v)} must be a whole number`);
      return defaultValue;
    }
    const n = Number(v);
    if (n < min) this.problems.push(`${name}=${n} must be at least ${min}`);
    return n;
  }

  /** lego's GetOrDefaultBool: Go's ParseBool spellings. */
  bool(name: string, defaultValue: boolean): boolean {
    const v = this.get(name);
    if (v === '') return defaultValue;
    const b = parseGoBool(v);
    if (b !== undefined) return b;
    this.problems.push(`${name}=${JSON.stringify(v)} must be true or false`);
    return defaultValue;
  }

  /** An http:// or https:// URL (a base URL override); `fallback` when unset. Not quoted: it may hold a password. */
  url(name: string, fallback: string): URL {
    const v = this.get(name);
    const parsed = URL.parse(v === '' ? fallback : v);
    if (parsed === null || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      this.problems.push(`${name} must be an http:// or https:// URL`);
      return new URL(fallback);
    }
    return parsed;
  }

  /**
   * Whole seconds as milliseconds (lego's format for every duration variable). lego falls back
   * to the default on a malformed value; we say so instead, since the user meant something.
   */
  seconds(name: string, defaultSeconds: number): number {
    const v = this.get(name);
    if (v === '') return defaultSeconds * 1000;
    if (!/^\d+$/.test(v) || Number(v) === 0) {
      this.problems.push(`${name}=${JSON.stringify(v)} must be a whole number of seconds greater than 0`);
      return defaultSeconds * 1000;
    }
    return Number(v) * 1000;
  }

  /**
   * `NAME_MODE`: lego knows `RAW` (domain, token and key authorization instead of the TXT record)
   * and nothing else. Our dns-01 solver hands providers the record name and value only.
   */
  mode(name: string): void {
    const v = this.get(name);
    if (v === '') return;
    if (v === 'RAW') {
      this.problems.push(
        `${name}=RAW is not supported yet: providers receive the record name and value (unset ${name} for lego's default mode)`,
      );
    } else {
      this.problems.push(`${name}=${JSON.stringify(v)}: lego knows only RAW, or no mode at all`);
    }
  }

  /** Throws every problem found so far as one error. */
  check(where: string): void {
    if (this.problems.length > 0) throw new Dns01ConfigError(`${where}: ${this.problems.join('; ')}`);
  }
}
