import { GoValue } from './exec.ts';

/*
 * Masterminds/semver v3 (v3.3, what sprig v3's `semver` and `semverCompare` call): NewVersion's
 * loose parsing (`v1`, `1.2`), Compare, and NewConstraint/Check with its operators (`=`, `!=`,
 * `>`, `<`, `>=`, `<=`, `~`, `^`, wildcards, hyphen ranges, `,` and `||`), each with its rule
 * that a prerelease version matches only a constraint that names a prerelease.
 */

const VERSION =
  /^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?(\+([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?$/;
const CV = String.raw`v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?`;
const OPS = String.raw`=||!=|>|<|>=|=>|<=|=<|~|~>|\^`;
const CONSTRAINT = new RegExp(String.raw`^\s*(${OPS})\s*(${CV})\s*$`);
const FIND_CONSTRAINT = new RegExp(String.raw`(${OPS})\s*(${CV})`, 'g');
const VALID_CONSTRAINT = new RegExp(String.raw`^(\s*(${OPS})\s*(${CV})\s*\,?)*$`);
const RANGE = new RegExp(String.raw`\s*(${CV})\s+-\s+(${CV})\s*`, 'g');

export class SemVersion extends GoValue {
  readonly goType = '*semver.Version';
  readonly major: bigint;
  readonly minor: bigint;
  readonly patch: bigint;
  readonly pre: string;
  readonly metadata: string;
  readonly original: string;
  constructor(major: bigint, minor: bigint, patch: bigint, pre: string, metadata: string, original: string) {
    super();
    this.major = major;
    this.minor = minor;
    this.patch = patch;
    this.pre = pre;
    this.metadata = metadata;
    this.original = original;
  }

  /** Version.String: the canonical form, without the `v`. */
  goString(): string {
    return `${this.major}.${this.minor}.${this.patch}${this.pre === '' ? '' : `-${this.pre}`}${this.metadata === '' ? '' : `+${this.metadata}`}`;
  }

  goMethod(name: string): ((...args: unknown[]) => unknown) | undefined {
    const other = (v: unknown): SemVersion => {
      if (!(v instanceof SemVersion))
        throw new Error(`wrong type for value; expected *semver.Version; got ${typeof v}`);
      return v;
    };
    switch (name) {
      case 'Major':
        return () => Number(this.major);
      case 'Minor':
        return () => Number(this.minor);
      case 'Patch':
        return () => Number(this.patch);
      case 'Prerelease':
        return () => this.pre;
      case 'Metadata':
        return () => this.metadata;
      case 'Original':
        return () => this.original;
      case 'String':
        return () => this.goString();
      case 'Compare':
        return (v: unknown) => this.compare(other(v));
      case 'LessThan':
        return (v: unknown) => this.compare(other(v)) < 0;
      case 'GreaterThan':
        return (v: unknown) => this.compare(other(v)) > 0;
      case 'Equal':
        return (v: unknown) => this.compare(other(v)) === 0;
      default:
        return undefined;
    }
  }

  /** Version.Compare: -1, 0 or 1; metadata does not count. */
  compare(o: SemVersion): number {
    for (const [a, b] of [
      [this.major, o.major],
      [this.minor, o.minor],
      [this.patch, o.patch],
    ] as const) {
      if (a !== b) return a < b ? -1 : 1;
    }
    return comparePrerelease(this.pre, o.pre);
  }
}

function comparePrerelease(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return 1;
  if (b === '') return -1;
  const as = a.split('.');
  const bs = b.split('.');
  for (let i = 0; i < Math.max(as.length, bs.length); i++) {
    const x = as[i];
    const y = bs[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const c = comparePrePart(x, y);
    if (c !== 0) return c;
  }
  return 0;
}

function comparePrePart(a: string, b: string): number {
  if (a === b) return 0;
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return BigInt(a) > BigInt(b) ? 1 : -1;
  if (an) return -1;
  if (bn) return 1;
  return a > b ? 1 : -1;
}

/** semver.NewVersion; throws its errors. */
export function newVersion(v: string): SemVersion {
  const m = VERSION.exec(v);
  if (m === null) throw new Error('Invalid Semantic Version');
  const num = (s: string | undefined): bigint => {
    if (s === undefined || s === '') return 0n;
    const n = BigInt(s.replace(/^\./, ''));
    if (n > 18446744073709551615n)
      throw new Error(
        `Error parsing version segment: strconv.ParseUint: parsing ${JSON.stringify(s.replace(/^\./, ''))}: value out of range`,
      );
    return n;
  };
  const pre = m[5] ?? '';
  const metadata = m[8] ?? '';
  for (const part of pre === '' ? [] : pre.split('.')) {
    if (/^\d+$/.test(part) && part.length > 1 && part.startsWith('0'))
      throw new Error('Version segment starts with 0');
  }
  return new SemVersion(num(m[1]), num(m[2]), num(m[3]), pre, metadata, v);
}

interface Constraint {
  readonly op: string;
  readonly con: SemVersion;
  readonly dirty: boolean;
  readonly minorDirty: boolean;
  readonly patchDirty: boolean;
}

const isX = (s: string): boolean => s === 'x' || s === 'X' || s === '*';

function parseConstraint(c: string): Constraint {
  if (c === '')
    return { op: '', con: newVersion('0.0.0'), dirty: true, minorDirty: false, patchDirty: false };
  const m = CONSTRAINT.exec(c);
  if (m === null) throw new Error(`improper constraint: ${c}`);
  const major = m[3] ?? '';
  const minor = (m[4] ?? '').replace(/^\./, '');
  const patch = (m[5] ?? '').replace(/^\./, '');
  const pre = m[6] ?? '';
  let ver = m[2]!;
  let dirty = false;
  let minorDirty = false;
  let patchDirty = false;
  if (isX(major) || major === '') {
    ver = `0.0.0${pre}`;
    dirty = true;
  } else if (isX(minor) || minor === '') {
    ver = `${major}.0.0${pre}`;
    dirty = true;
    minorDirty = true;
  } else if (isX(patch) || patch === '') {
    ver = `${major}${m[4]}.0${pre}`;
    dirty = true;
    patchDirty = true;
  }
  let con: SemVersion;
  try {
    con = newVersion(ver);
  } catch {
    throw new Error('constraint Parser Error');
  }
  return { op: m[1]!, con, dirty, minorDirty, patchDirty };
}

/** semver.NewConstraint, checked against `v` (Constraints.Check). */
export function checkConstraint(constraint: string, v: SemVersion): boolean {
  const groups = newConstraint(constraint);
  return groups.some((group) => group.every((c) => check(c, v)));
}

function newConstraint(c: string): Constraint[][] {
  const rewritten = c.replace(RANGE, (_m, ...g: string[]) => `>= ${g[0]}, <= ${g[10]} `);
  return rewritten.split('||').map((or) => {
    if (!VALID_CONSTRAINT.test(or)) throw new Error(`improper constraint: ${or}`);
    const found = or.match(FIND_CONSTRAINT) ?? [or];
    return found.map(parseConstraint);
  });
}

function check(c: Constraint, v: SemVersion): boolean {
  const releaseOnly = v.pre !== '' && c.con.pre === '';
  switch (c.op) {
    case '':
    case '=':
      if (releaseOnly) return false;
      if (c.dirty) return tilde(c, v);
      return v.compare(c.con) === 0;
    case '!=':
      if (c.dirty) {
        if (releaseOnly) return false;
        if (c.con.major !== v.major) return true;
        if (c.con.minor !== v.minor && !c.minorDirty) return true;
        if (c.minorDirty) return false;
        if (c.con.patch !== v.patch && !c.patchDirty) return true;
        if (c.patchDirty) {
          if (v.pre !== '' || c.con.pre !== '') return comparePrerelease(v.pre, c.con.pre) !== 0;
          return false;
        }
      }
      return v.compare(c.con) !== 0;
    case '>':
      if (releaseOnly) return false;
      if (!c.dirty) return v.compare(c.con) === 1;
      if (v.major > c.con.major) return true;
      if (v.major < c.con.major) return false;
      if (c.minorDirty) return false;
      if (c.patchDirty) return v.minor > c.con.minor;
      return v.compare(c.con) === 1;
    case '<':
      if (releaseOnly) return false;
      return v.compare(c.con) < 0;
    case '>=':
    case '=>':
      if (releaseOnly) return false;
      return v.compare(c.con) >= 0;
    case '<=':
    case '=<':
      if (releaseOnly) return false;
      if (!c.dirty) return v.compare(c.con) <= 0;
      if (v.major > c.con.major) return false;
      if (v.major === c.con.major && v.minor > c.con.minor && !c.minorDirty) return false;
      return true;
    case '~':
    case '~>':
      if (releaseOnly) return false;
      return tilde(c, v);
    default: {
      // ^
      if (releaseOnly) return false;
      if (v.compare(c.con) < 0) return false;
      if (c.con.major > 0n || c.minorDirty) return v.major === c.con.major;
      if (c.con.major === 0n && v.major > 0n) return false;
      if (c.con.minor > 0n || c.patchDirty) return v.minor === c.con.minor;
      if (c.con.minor === 0n && v.minor > 0n) return false;
      return c.con.patch === v.patch;
    }
  }
}

function tilde(c: Constraint, v: SemVersion): boolean {
  if (v.pre !== '' && c.con.pre === '') return false;
  if (v.compare(c.con) < 0) return false;
  // ~0.0.0 accepts everything.
  if (c.con.major === 0n && c.con.minor === 0n && c.con.patch === 0n && !c.minorDirty && !c.patchDirty)
    return true;
  if (v.major !== c.con.major) return false;
  if (v.minor !== c.con.minor && !c.minorDirty) return false;
  return true;
}
