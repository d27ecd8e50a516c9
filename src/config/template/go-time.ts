import { readFileSync } from 'node:fs';
import { GoValue } from './exec.ts';

/*
 * Go's time package as sprig's date functions use it (Masterminds/sprig v3 date.go): a Time with
 * nanoseconds, its Location (UTC, Local, an IANA zone, or a fixed offset), Format and
 * ParseInLocation with Go's reference layout ("2006-01-02 15:04:05.999999999 -0700 MST"),
 * Duration's ParseDuration and String. Offsets come from the runtime's time zone database
 * (Intl); zone abbreviations (`MST`) from the system's zoneinfo file, as Go reads it (the
 * footer's POSIX TZ names, standard or daylight by the offset in force).
 */

export interface Location {
  /** Go's Location.String(): `UTC`, `Local`, the IANA name, or the fixed zone's name. */
  readonly name: string;
  /** The IANA zone for the offset (undefined: the process's local zone; null: a fixed offset). */
  readonly zone: string | undefined | null;
  /** A fixed zone's offset, seconds east of UTC. */
  readonly fixed?: number;
}

export const UTC: Location = { name: 'UTC', zone: null, fixed: 0 };
export const LOCAL: Location = { name: 'Local', zone: undefined };

export function fixedZone(name: string, offset: number): Location {
  return { name, zone: null, fixed: offset };
}

/** Go's LoadLocation: `""` and `UTC` are UTC, `Local` the local zone, else an IANA name. */
export function loadLocation(name: string): Location | undefined {
  if (name === '' || name === 'UTC') return UTC;
  if (name === 'Local') return localLocation();
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
  } catch {
    return undefined;
  }
  return { name, zone: name };
}

/** Go's Local: TZ unset is /etc/localtime, `TZ=""` is UTC (named UTC). */
function localLocation(): Location {
  const tz = process.env.TZ;
  if (tz === '') return UTC;
  return LOCAL;
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** Seconds east of UTC in force in `loc` at `unixSec`. */
export function offsetAt(loc: Location, unixSec: number): number {
  if (loc.zone === null) return loc.fixed ?? 0;
  const key = loc.zone ?? '';
  let f = formats.get(key);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      ...(loc.zone === undefined ? {} : { timeZone: loc.zone }),
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(key, f);
  }
  const ms = unixSec * 1000;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return 0;
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(new Date(ms))) parts[p.type] = p.value;
  let year = Number(parts.year);
  if (parts.era === 'BC' || parts.era === 'B') year = 1 - year;
  const wall =
    daysFromCivil(year, Number(parts.month), Number(parts.day)) * 86400 +
    Number(parts.hour) * 3600 +
    Number(parts.minute) * 60 +
    Number(parts.second);
  return wall - Math.floor(unixSec);
}

const zoneNamesCache = new Map<string, ZoneNames | null>();

interface ZoneNames {
  readonly std: string;
  readonly stdOffset: number;
  readonly dst?: string;
}

/** The names of the footer of a TZif file: `CET-1CEST,M3.5.0,M10.5.0/3`, `<+03>-3`. */
function zoneNames(loc: Location): ZoneNames | null {
  const key = loc.zone ?? '';
  const cached = zoneNamesCache.get(key);
  if (cached !== undefined) return cached;
  let names: ZoneNames | null = null;
  try {
    const tz = process.env.TZ;
    const file =
      loc.zone !== undefined
        ? `/usr/share/zoneinfo/${loc.zone}`
        : tz === undefined
          ? '/etc/localtime'
          : tz.replace(/^:/, '').startsWith('/')
            ? tz.replace(/^:/, '')
            : `/usr/share/zoneinfo/${tz.replace(/^:/, '')}`;
    const text = readFileSync(file).toString('latin1');
    if (text.startsWith('TZif')) {
      const footer = text.replace(/\n$/, '').split('\n').pop() ?? '';
      const m = /^(<[^>]*>|[A-Za-z]{3,})([+-]?\d{1,2}(?::\d{1,2}){0,2})(<[^>]*>|[A-Za-z]{3,})?/.exec(footer);
      if (m !== null) {
        const strip = (n: string) => n.replace(/^<|>$/g, '');
        const [h = '0', mi = '0', se = '0'] = m[2]!.replace(/^[+-]/, '').split(':');
        const west = (Number(h) * 3600 + Number(mi) * 60 + Number(se)) * (m[2]!.startsWith('-') ? -1 : 1);
        names = { std: strip(m[1]!), stdOffset: -west, ...(m[3] === undefined ? {} : { dst: strip(m[3]) }) };
      }
    }
  } catch {
    names = null;
  }
  zoneNamesCache.set(key, names);
  return names;
}

/** The zone's abbreviation at an instant with `offset` in force (Go's zone name). */
export function abbreviation(loc: Location, unixSec: number, offset: number): string {
  if (loc.zone === null) return loc === UTC ? 'UTC' : loc.name;
  if (loc.zone === 'UTC' || loc.zone === 'Etc/UTC') return 'UTC';
  const names = zoneNames(loc);
  if (names !== null) return offset === names.stdOffset || names.dst === undefined ? names.std : names.dst;
  // No zoneinfo file: the runtime's short name (`EST`), or tzdata's numeric form (`+03`).
  const short =
    new Intl.DateTimeFormat('en-US', {
      ...(loc.zone === undefined ? {} : { timeZone: loc.zone }),
      timeZoneName: 'short',
    })
      .formatToParts(new Date(unixSec * 1000))
      .find((p) => p.type === 'timeZoneName')?.value ?? '';
  if (/^[A-Z]{3,5}$/.test(short)) return short;
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  const hh = pad(Math.floor(a / 3600), 2);
  const mm = Math.floor(a / 60) % 60;
  return `${sign}${hh}${mm === 0 ? '' : pad(mm, 2)}`;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(z0: number): [number, number, number] {
  const z = z0 + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

const isLeap = (y: number): boolean => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
const DAYS_IN = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const daysIn = (m: number, y: number): number => (m === 2 && isLeap(y) ? 29 : DAYS_IN[m - 1]!);

export const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const pad = (n: number, width: number): string => {
  const s = String(Math.abs(n)).padStart(width, '0');
  return n < 0 ? `-${s}` : s;
};

/** The zero time's seconds (0001-01-01 00:00:00 UTC). */
const ZERO_SEC = -62135596800;

/** Go's time.Time: seconds and nanoseconds since the epoch, a location, a monotonic reading. */
export class GoTime extends GoValue {
  readonly goType = 'time.Time';
  readonly sec: number;
  readonly nsec: number;
  readonly loc: Location;
  /** Seconds since the process started (Go's monotonic reading, `m=+…` in String). */
  readonly mono: number | undefined;
  constructor(sec: number, nsec: number, loc: Location, mono?: number) {
    super();
    this.sec = sec;
    this.nsec = nsec;
    this.loc = loc;
    this.mono = mono;
  }

  static zero(): GoTime {
    return new GoTime(ZERO_SEC, 0, UTC);
  }

  static now(): GoTime {
    const ns = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
    return new GoTime(
      Number(ns / 1_000_000_000n),
      Number(ns % 1_000_000_000n),
      localLocation(),
      performance.now() / 1000,
    );
  }

  static unix(sec: number): GoTime {
    return new GoTime(sec, 0, localLocation());
  }

  /** Go's In (and setLoc): the monotonic reading goes. */
  in(loc: Location): GoTime {
    return new GoTime(this.sec, this.nsec, loc);
  }

  /** Go's Add; the monotonic reading moves with it. */
  add(ns: bigint): GoTime {
    const total = BigInt(this.sec) * 1_000_000_000n + BigInt(this.nsec) + ns;
    let sec = total / 1_000_000_000n;
    let nsec = total % 1_000_000_000n;
    if (nsec < 0n) {
      nsec += 1_000_000_000n;
      sec -= 1n;
    }
    const mono = this.mono === undefined ? undefined : this.mono + Number(ns) / 1e9;
    return new GoTime(Number(sec), Number(nsec), this.loc, mono);
  }

  /** Nanoseconds from `other` to this. */
  sub(other: GoTime): bigint {
    if (this.mono !== undefined && other.mono !== undefined)
      return BigInt(Math.round((this.mono - other.mono) * 1e9));
    return (BigInt(this.sec) - BigInt(other.sec)) * 1_000_000_000n + BigInt(this.nsec - other.nsec);
  }

  fields(): {
    year: number;
    month: number;
    day: number;
    hour: number;
    min: number;
    sec: number;
    weekday: number;
    yday: number;
    offset: number;
    abbr: string;
  } {
    const offset = offsetAt(this.loc, this.sec);
    const local = this.sec + offset;
    const days = Math.floor(local / 86400);
    const rem = local - days * 86400;
    const [year, month, day] = civilFromDays(days);
    return {
      year,
      month,
      day,
      hour: Math.floor(rem / 3600),
      min: Math.floor(rem / 60) % 60,
      sec: rem % 60,
      weekday: (((days + 4) % 7) + 7) % 7,
      yday: days - daysFromCivil(year, 1, 1) + 1,
      offset,
      abbr: abbreviation(this.loc, this.sec, offset),
    };
  }

  format(layout: string): string {
    return formatTime(this, layout);
  }

  goString(): string {
    let s = this.format('2006-01-02 15:04:05.999999999 -0700 MST');
    if (this.mono !== undefined) {
      const ns = Math.round(this.mono * 1e9);
      s += ` m=${ns < 0 ? '-' : '+'}${Math.floor(Math.abs(ns) / 1e9)}.${String(Math.abs(ns) % 1e9).padStart(9, '0')}`;
    }
    return s;
  }

  goMethod(name: string): ((...args: unknown[]) => unknown) | undefined {
    const f = () => this.fields();
    const noArgs =
      (fn: () => unknown) =>
      (...a: unknown[]) => {
        if (a.length !== 0) throw new Error(`wrong number of args for ${name}: want 0 got ${a.length}`);
        return fn();
      };
    switch (name) {
      case 'Year':
        return noArgs(() => f().year);
      case 'Month':
        return noArgs(() => MONTHS[f().month - 1]);
      case 'Day':
        return noArgs(() => f().day);
      case 'Hour':
        return noArgs(() => f().hour);
      case 'Minute':
        return noArgs(() => f().min);
      case 'Second':
        return noArgs(() => f().sec);
      case 'Nanosecond':
        return noArgs(() => this.nsec);
      case 'YearDay':
        return noArgs(() => f().yday);
      case 'Weekday':
        return noArgs(() => DAYS[f().weekday]);
      case 'Unix':
        return noArgs(() => this.sec);
      case 'UnixMilli':
        return noArgs(() => this.sec * 1000 + Math.floor(this.nsec / 1e6));
      case 'IsZero':
        return noArgs(() => this.sec === ZERO_SEC && this.nsec === 0);
      case 'UTC':
        return noArgs(() => this.in(UTC));
      case 'Local':
        return noArgs(() => this.in(localLocation()));
      case 'String':
        return noArgs(() => this.goString());
      case 'Format':
        return (layout: unknown) => this.format(String(layout));
      default:
        return undefined;
    }
  }
}

/** Go's layout elements (time/format.go nextStdChunk), in the order it tries them. */
type Std =
  | 'Jan'
  | 'January'
  | '1'
  | '01'
  | 'Mon'
  | 'Monday'
  | '2'
  | '_2'
  | '02'
  | '__2'
  | '002'
  | '15'
  | '3'
  | '03'
  | '4'
  | '04'
  | '5'
  | '05'
  | '2006'
  | '06'
  | 'PM'
  | 'pm'
  | 'MST'
  | 'Z0700'
  | 'Z070000'
  | 'Z07'
  | 'Z07:00'
  | 'Z07:00:00'
  | '-0700'
  | '-070000'
  | '-07'
  | '-07:00'
  | '-07:00:00'
  | { frac: '0' | '9'; digits: number; sep: string };

const isLower = (c: string | undefined): boolean => c !== undefined && c >= 'a' && c <= 'z';
const isDigitAt = (s: string, i: number): boolean => i < s.length && s[i]! >= '0' && s[i]! <= '9';

/** Go's nextStdChunk: the text before the first layout element, the element, the rest. */
function nextChunk(layout: string): [string, Std | undefined, string] {
  for (let i = 0; i < layout.length; i++) {
    const c = layout[i]!;
    const at = (s: string) => layout.startsWith(s, i);
    const cut = (std: Std, len: number): [string, Std, string] => [
      layout.slice(0, i),
      std,
      layout.slice(i + len),
    ];
    switch (c) {
      case 'J':
        if (at('Jan')) {
          if (at('January')) return cut('January', 7);
          if (!isLower(layout[i + 3])) return cut('Jan', 3);
        }
        break;
      case 'M':
        if (at('Mon')) {
          if (at('Monday')) return cut('Monday', 6);
          if (!isLower(layout[i + 3])) return cut('Mon', 3);
        }
        if (at('MST')) return cut('MST', 3);
        break;
      case '0':
        if (layout[i + 1] !== undefined && layout[i + 1]! >= '1' && layout[i + 1]! <= '6')
          return cut((['01', '02', '03', '04', '05', '06'] as const)[Number(layout[i + 1]) - 1]!, 2);
        if (at('002')) return cut('002', 3);
        break;
      case '1':
        if (at('15')) return cut('15', 2);
        return cut('1', 1);
      case '2':
        if (at('2006')) return cut('2006', 4);
        return cut('2', 1);
      case '_':
        if (layout[i + 1] === '2') {
          // `_2006` is a literal `_` and the long year.
          if (layout.startsWith('2006', i + 1)) return [layout.slice(0, i + 1), '2006', layout.slice(i + 5)];
          return cut('_2', 2);
        }
        if (at('__2')) return cut('__2', 3);
        break;
      case '3':
        return cut('3', 1);
      case '4':
        return cut('4', 1);
      case '5':
        return cut('5', 1);
      case 'P':
        if (at('PM')) return cut('PM', 2);
        break;
      case 'p':
        if (at('pm')) return cut('pm', 2);
        break;
      case '-':
        for (const s of ['-070000', '-07:00:00', '-0700', '-07:00', '-07'] as const)
          if (at(s)) return cut(s, s.length);
        break;
      case 'Z':
        for (const s of ['Z070000', 'Z07:00:00', 'Z0700', 'Z07:00', 'Z07'] as const)
          if (at(s)) return cut(s, s.length);
        break;
      case '.':
      case ',':
        if (layout[i + 1] === '0' || layout[i + 1] === '9') {
          const ch = layout[i + 1]!;
          let j = i + 1;
          while (layout[j] === ch) j++;
          // Only when the digits end there (`.000` but not `.0001`).
          if (!isDigitAt(layout, j))
            return [
              layout.slice(0, i),
              { frac: ch as '0' | '9', digits: j - i - 1, sep: c },
              layout.slice(j),
            ];
        }
        break;
    }
  }
  return [layout, undefined, ''];
}

function formatZone(offset: number, std: string): string {
  if (std.startsWith('Z') && offset === 0) return 'Z';
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  const h = pad(Math.floor(a / 3600), 2);
  const m = pad(Math.floor(a / 60) % 60, 2);
  const s = pad(a % 60, 2);
  const form = std.replace(/^Z/, '-');
  switch (form) {
    case '-07':
      return sign + h;
    case '-0700':
      return sign + h + m;
    case '-07:00':
      return `${sign}${h}:${m}`;
    case '-070000':
      return sign + h + m + s;
    default:
      return `${sign}${h}:${m}:${s}`;
  }
}

/** Go's Time.Format. */
export function formatTime(t: GoTime, layout: string): string {
  const f = t.fields();
  let out = '';
  let rest = layout;
  while (rest !== '') {
    const [prefix, std, suffix] = nextChunk(rest);
    out += prefix;
    if (std === undefined) break;
    rest = suffix;
    if (typeof std === 'object') {
      const digits = String(t.nsec).padStart(9, '0').slice(0, std.digits);
      if (std.frac === '0') out += std.sep + digits;
      else {
        const trimmed = String(t.nsec).padStart(9, '0').slice(0, std.digits).replace(/0+$/, '');
        if (trimmed !== '') out += std.sep + trimmed;
      }
      continue;
    }
    switch (std) {
      case '06':
        out += pad(((f.year % 100) + 100) % 100, 2);
        break;
      case '2006':
        out += pad(f.year, 4);
        break;
      case 'Jan':
        out += MONTHS[f.month - 1]!.slice(0, 3);
        break;
      case 'January':
        out += MONTHS[f.month - 1];
        break;
      case '1':
        out += f.month;
        break;
      case '01':
        out += pad(f.month, 2);
        break;
      case 'Mon':
        out += DAYS[f.weekday]!.slice(0, 3);
        break;
      case 'Monday':
        out += DAYS[f.weekday];
        break;
      case '2':
        out += f.day;
        break;
      case '_2':
        out += f.day < 10 ? ` ${f.day}` : f.day;
        break;
      case '02':
        out += pad(f.day, 2);
        break;
      case '__2':
        out += String(f.yday).padStart(3, ' ');
        break;
      case '002':
        out += pad(f.yday, 3);
        break;
      case '15':
        out += pad(f.hour, 2);
        break;
      case '3':
        out += f.hour % 12 === 0 ? 12 : f.hour % 12;
        break;
      case '03':
        out += pad(f.hour % 12 === 0 ? 12 : f.hour % 12, 2);
        break;
      case '4':
        out += f.min;
        break;
      case '04':
        out += pad(f.min, 2);
        break;
      case '5':
        out += f.sec;
        break;
      case '05':
        out += pad(f.sec, 2);
        break;
      case 'PM':
        out += f.hour >= 12 ? 'PM' : 'AM';
        break;
      case 'pm':
        out += f.hour >= 12 ? 'pm' : 'am';
        break;
      case 'MST':
        // A zone without a name (a fixed offset parsed from -0700) prints its offset.
        out += f.abbr !== '' ? f.abbr : formatZone(f.offset, '-0700');
        break;
      default:
        out += formatZone(f.offset, std);
    }
  }
  return out;
}

/** Go's strconv-style quoting in time's errors. */
const q = (s: string): string => JSON.stringify(s);

class ParseError extends Error {}

/** Go's time.ParseInLocation (time/format.go parse), its errors worded as Go's. */
export function parseTime(layout: string, value: string, local: Location): GoTime {
  const alayout = layout;
  const avalue = value;
  const bad = (layoutElem: string, valueElem: string): ParseError =>
    new ParseError(
      `parsing time ${q(avalue)} as ${q(alayout)}: cannot parse ${q(valueElem)} as ${q(layoutElem)}`,
    );
  const range = (what: string): ParseError =>
    new ParseError(`parsing time ${q(avalue)}: ${what} out of range`);
  let year = 0;
  let month = -1;
  let day = -1;
  let yday = -1;
  let hour = 0;
  let min = 0;
  let sec = 0;
  let nsec = 0;
  let pmSet = false;
  let amSet = false;
  let z: Location | undefined;
  let zoneOffset = -1;
  let zoneName = '';
  const getnum = (fixed: boolean, n = 2): number | undefined => {
    let i = 0;
    while (i < n && isDigitAt(value, i)) i++;
    if (i === 0 || (fixed && i < n)) return undefined;
    const v = Number(value.slice(0, i));
    value = value.slice(i);
    return v;
  };
  while (true) {
    const [prefix, std, suffix] = nextChunk(layout);
    const stdstr = layout.slice(prefix.length, layout.length - suffix.length);
    // Go's skip: a space in the layout matches any run of spaces.
    let p = prefix;
    while (p !== '') {
      if (p[0] === ' ') {
        if (value !== '' && value[0] !== ' ') throw bad(prefix, value);
        p = p.replace(/^ +/, '');
        value = value.replace(/^ +/, '');
        continue;
      }
      if (value === '' || value[0] !== p[0]) throw bad(prefix, value);
      p = p.slice(1);
      value = value.slice(1);
    }
    if (std === undefined) {
      if (value !== '') throw new ParseError(`parsing time ${q(avalue)}: extra text: ${q(value)}`);
      break;
    }
    layout = suffix;
    const hold = value;
    let ok = true;
    let rangeErr = '';
    if (typeof std === 'object') {
      if (std.frac === '0') {
        const n = 1 + std.digits;
        if (value.length < n || (value[0] !== '.' && value[0] !== ',') || !/^\d+$/.test(value.slice(1, n)))
          ok = false;
        else {
          nsec = Number(value.slice(1, n).padEnd(9, '0').slice(0, 9));
          value = value.slice(n);
        }
      } else if (value.length >= 2 && (value[0] === '.' || value[0] === ',') && isDigitAt(value, 1)) {
        let i = 1;
        while (isDigitAt(value, i)) i++;
        nsec = Number(value.slice(1, i).padEnd(9, '0').slice(0, 9));
        value = value.slice(i);
      }
    } else {
      switch (std) {
        case '06': {
          const v = getnum(true);
          if (v === undefined) ok = false;
          else year = v >= 69 ? 1900 + v : 2000 + v;
          break;
        }
        case '2006':
          if (value.length < 4 || !/^\d{4}/.test(value)) ok = false;
          else {
            year = Number(value.slice(0, 4));
            value = value.slice(4);
          }
          break;
        case 'Jan':
        case 'January': {
          const names = std === 'Jan' ? MONTHS.map((m) => m.slice(0, 3)) : MONTHS;
          const i = names.findIndex((n) => value.slice(0, n.length).toLowerCase() === n.toLowerCase());
          if (i === -1) ok = false;
          else {
            month = i + 1;
            value = value.slice(names[i]!.length);
          }
          break;
        }
        case '1':
        case '01': {
          const v = getnum(std === '01');
          if (v === undefined) ok = false;
          else if (v <= 0 || v > 12) rangeErr = 'month';
          else month = v;
          break;
        }
        case 'Mon':
        case 'Monday': {
          const names = std === 'Mon' ? DAYS.map((d) => d.slice(0, 3)) : DAYS;
          const i = names.findIndex((n) => value.slice(0, n.length).toLowerCase() === n.toLowerCase());
          if (i === -1) ok = false;
          else value = value.slice(names[i]!.length);
          break;
        }
        case '2':
        case '_2':
        case '02': {
          if (std === '_2' && value[0] === ' ') value = value.slice(1);
          const v = getnum(std === '02');
          if (v === undefined) ok = false;
          else day = v;
          break;
        }
        case '__2':
        case '002': {
          if (std === '__2') value = value.replace(/^ {1,2}/, '');
          const v = getnum(std === '002', 3);
          if (v === undefined) ok = false;
          else if (v < 1 || v > 366) rangeErr = 'day-of-year';
          else yday = v;
          break;
        }
        case '15': {
          const v = getnum(false);
          if (v === undefined) ok = false;
          else if (v > 23) rangeErr = 'hour';
          else hour = v;
          break;
        }
        case '3':
        case '03': {
          const v = getnum(std === '03');
          if (v === undefined) ok = false;
          else if (v > 12) rangeErr = 'hour';
          else hour = v;
          break;
        }
        case '4':
        case '04':
        case '5':
        case '05': {
          const v = getnum(std === '04' || std === '05');
          if (v === undefined) ok = false;
          else if (v > 59) rangeErr = std.endsWith('4') ? 'minute' : 'second';
          else if (std.endsWith('4')) min = v;
          else {
            sec = v;
            // A fractional second the layout does not name (Go's special case).
            if (value.length >= 2 && (value[0] === '.' || value[0] === ',') && isDigitAt(value, 1)) {
              const next = nextChunk(layout)[1];
              if (typeof next !== 'object') {
                let i = 1;
                while (isDigitAt(value, i)) i++;
                nsec = Number(value.slice(1, i).padEnd(9, '0').slice(0, 9));
                value = value.slice(i);
              }
            }
          }
          break;
        }
        case 'PM':
        case 'pm': {
          const p2 = value.slice(0, 2);
          const [am, pm] = std === 'PM' ? ['AM', 'PM'] : ['am', 'pm'];
          if (p2 === pm) pmSet = true;
          else if (p2 === am) amSet = true;
          else ok = false;
          if (ok) value = value.slice(2);
          break;
        }
        case 'MST': {
          if (value.startsWith('UTC')) {
            z = UTC;
            value = value.slice(3);
            break;
          }
          const m = /^(GMT[+-]\d{1,2}|[A-Z]{3,5}|ChST|MeST)/.exec(value);
          if (m === null) ok = false;
          else {
            zoneName = m[0];
            value = value.slice(m[0].length);
          }
          break;
        }
        default: {
          // The numeric zones, `Z` for UTC in the ISO 8601 forms.
          if (std.startsWith('Z') && value[0] === 'Z') {
            value = value.slice(1);
            z = UTC;
            break;
          }
          const form = std.replace(/^Z/, '-');
          const re =
            form === '-07'
              ? /^([+-])(\d\d)/
              : form === '-0700'
                ? /^([+-])(\d\d)(\d\d)/
                : form === '-07:00'
                  ? /^([+-])(\d\d):(\d\d)/
                  : form === '-070000'
                    ? /^([+-])(\d\d)(\d\d)(\d\d)/
                    : /^([+-])(\d\d):(\d\d):(\d\d)/;
          const m = re.exec(value);
          if (m === null) ok = false;
          else {
            const off = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
            zoneOffset = m[1] === '-' ? -off : off;
            value = value.slice(m[0].length);
          }
        }
      }
    }
    if (rangeErr !== '') throw range(rangeErr);
    if (!ok) throw bad(stdstr, hold);
  }
  if (pmSet && hour < 12) hour += 12;
  else if (amSet && hour === 12) hour = 0;
  if (yday >= 0) {
    let m = 0;
    let d = yday;
    if (isLeap(year) && d === 60) {
      m = 2;
      d = 29;
    } else {
      if (isLeap(year) && d > 60) d--;
      while (m < 12 && d > DAYS_IN[m]!) d -= DAYS_IN[m++]!;
      m++;
    }
    if (month >= 0 && month !== m)
      throw new ParseError(`parsing time ${q(avalue)}: day-of-year does not match month`);
    month = m;
    if (day >= 0 && day !== d)
      throw new ParseError(`parsing time ${q(avalue)}: day-of-year does not match day`);
    day = d;
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  if (day < 1 || day > daysIn(month, year)) throw range('day');
  const wall = daysFromCivil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec;
  if (z !== undefined) return new GoTime(wall, nsec, z);
  if (zoneOffset !== -1) {
    const t = wall - zoneOffset;
    // The local zone when its offset at that time is the one given (Go does the same).
    if (offsetAt(local, t) === zoneOffset) return new GoTime(t, nsec, local);
    return new GoTime(t, nsec, fixedZone('', zoneOffset));
  }
  if (zoneName !== '') {
    const t = wall;
    const off = offsetAt(local, t - offsetAt(local, t));
    if (abbreviation(local, t - off, off) === zoneName) return new GoTime(t - off, nsec, local);
    const gmt = /^GMT([+-]\d{1,2})$/.exec(zoneName);
    const offset = gmt === null ? 0 : Number(gmt[1]) * 3600;
    return new GoTime(t - offset, nsec, fixedZone(zoneName, offset));
  }
  return new GoTime(wallToUnix(local, wall), nsec, local);
}

/** Go's Date in a location: the wall time's offset, looked up once more near a transition. */
function wallToUnix(loc: Location, wall: number): number {
  const first = offsetAt(loc, wall);
  const utc = wall - first;
  const second = offsetAt(loc, utc);
  return wall - second;
}

export function isParseError(e: unknown): e is Error {
  return e instanceof ParseError;
}

export { durationString, parseGoDuration as parseDuration } from '../../core/go-duration.ts';

/** Go's Duration.Round(m). */
export function roundDuration(d: bigint, m: bigint): bigint {
  let r = d % m;
  if (d < 0n) {
    r = -r;
    if (r + r < m) return d + r;
    return d - m + r;
  }
  if (r + r < m) return d - r;
  return d + m - r;
}
