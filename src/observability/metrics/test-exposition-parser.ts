/**
 * A strict reader of the text exposition format 0.0.4 for tests: it throws on the first line that
 * a Prometheus server would reject or that breaks a rule we promise (HELP/TYPE once and before the
 * samples, a family's samples contiguous, no duplicate series, cumulative histograms whose +Inf
 * bucket equals _count).
 */

export interface ParsedSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface ParsedFamily {
  help: string | undefined;
  type: string | undefined;
  readonly samples: ParsedSample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const HELP_LINE = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_HEAD = new RegExp(`^(${NAME})`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/;
const VALUE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|NaN|[+-]Inf)$/;

export function parseExposition(text: string): Map<string, ParsedFamily> {
  if (text !== '' && !text.endsWith('\n')) throw new Error('exposition does not end with a line feed');
  const families = new Map<string, ParsedFamily>();
  const finished = new Set<string>();
  const seenSeries = new Set<string>();
  let current: string | undefined;
  const enter = (name: string, lineNo: number): ParsedFamily => {
    if (current !== name) {
      if (finished.has(name)) throw new Error(`line ${lineNo}: family ${name} is split`);
      if (current !== undefined) finished.add(current);
      current = name;
    }
    let family = families.get(name);
    if (family === undefined) {
      family = { help: undefined, type: undefined, samples: [] };
      families.set(name, family);
    }
    return family;
  };
  const lines = text === '' ? [] : text.slice(0, -1).split('\n');
  lines.forEach((line, index) => {
    const lineNo = index + 1;
    if (line.startsWith('#')) {
      const help = HELP_LINE.exec(line);
      const type = TYPE_LINE.exec(line);
      if (help !== null) {
        const family = enter(help[1]!, lineNo);
        if (family.help !== undefined) throw new Error(`line ${lineNo}: second HELP for ${help[1]}`);
        if (/\\(?![\\n])/.test(help[2]!)) throw new Error(`line ${lineNo}: bad escape in HELP`);
        family.help = help[2]!.replace(/\\([\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
      } else if (type !== null) {
        const family = enter(type[1]!, lineNo);
        if (family.type !== undefined) throw new Error(`line ${lineNo}: second TYPE for ${type[1]}`);
        if (family.samples.length > 0) throw new Error(`line ${lineNo}: TYPE after samples of ${type[1]}`);
        family.type = type[2]!;
      } else {
        throw new Error(`line ${lineNo}: unexpected comment ${JSON.stringify(line)}`);
      }
      return;
    }
    const sample = parseSample(line, lineNo);
    const familyName =
      current !== undefined && belongsTo(sample.name, current, families) ? current : sample.name;
    const family = enter(familyName, lineNo);
    if (family.type === undefined) throw new Error(`line ${lineNo}: sample of ${familyName} without TYPE`);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seenSeries.has(key)) throw new Error(`line ${lineNo}: duplicate series ${line}`);
    seenSeries.add(key);
    family.samples.push(sample);
  });
  for (const [name, family] of families) if (family.type === 'histogram') checkHistogram(name, family);
  return families;
}

function belongsTo(sampleName: string, family: string, families: Map<string, ParsedFamily>): boolean {
  if (sampleName === family) return families.get(family)?.type !== 'histogram';
  if (families.get(family)?.type !== 'histogram') return false;
  return ['_bucket', '_sum', '_count'].some((suffix) => sampleName === `${family}${suffix}`);
}

function parseSample(line: string, lineNo: number): ParsedSample {
  const head = SAMPLE_HEAD.exec(line);
  if (head === null) throw new Error(`line ${lineNo}: no metric name in ${JSON.stringify(line)}`);
  const name = head[1]!;
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    while (!rest.startsWith('}')) {
      const label = LABEL.exec(rest);
      if (label === null) throw new Error(`line ${lineNo}: bad label at ${JSON.stringify(rest)}`);
      const labelName = label[1]!;
      if (labelName.startsWith('__')) throw new Error(`line ${lineNo}: reserved label ${labelName}`);
      if (Object.hasOwn(labels, labelName)) throw new Error(`line ${lineNo}: label ${labelName} twice`);
      labels[labelName] = label[2]!.replace(/\\([\\"n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(label[0].length);
      if (rest.startsWith(',')) {
        rest = rest.slice(1);
        if (rest.startsWith('}')) throw new Error(`line ${lineNo}: trailing comma in labels`);
      } else if (!rest.startsWith('}')) {
        throw new Error(`line ${lineNo}: expected , or } at ${JSON.stringify(rest)}`);
      }
    }
    rest = rest.slice(1);
  }
  const parts = rest.split(' ');
  if (parts[0] !== '' || parts.length < 2 || parts.length > 3) {
    throw new Error(`line ${lineNo}: expected one space, a value and an optional timestamp`);
  }
  const text = parts[1]!;
  if (!VALUE.test(text)) throw new Error(`line ${lineNo}: bad value ${JSON.stringify(text)}`);
  if (parts[2] !== undefined && !/^-?\d+$/.test(parts[2])) throw new Error(`line ${lineNo}: bad timestamp`);
  const value = text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text);
  return { name, labels, value };
}

function checkHistogram(name: string, family: ParsedFamily): void {
  const groups = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    let group = groups.get(key);
    if (group === undefined) {
      group = { buckets: [] };
      groups.set(key, group);
    }
    if (s.name === `${name}_bucket`) {
      if (le === undefined || !VALUE.test(le)) throw new Error(`${name}: bucket without a valid le`);
      group.buckets.push([le === '+Inf' ? Infinity : Number(le), s.value]);
    } else if (le !== undefined) {
      throw new Error(`${name}: le on ${s.name}`);
    } else if (s.name === `${name}_sum`) {
      group.sum = s.value;
    } else {
      group.count = s.value;
    }
  }
  for (const [key, group] of groups) {
    if (group.sum === undefined || group.count === undefined)
      throw new Error(`${name}${key}: no _sum or _count`);
    const sorted = [...group.buckets].sort((a, b) => a[0] - b[0]);
    const last = sorted.at(-1);
    if (last === undefined || last[0] !== Infinity) throw new Error(`${name}${key}: no +Inf bucket`);
    if (last[1] !== group.count) throw new Error(`${name}${key}: +Inf bucket differs from _count`);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]![1] < sorted[i - 1]![1]) throw new Error(`${name}${key}: buckets not cumulative`);
    }
  }
}

/** The value of the one sample with exactly these labels, or undefined. */
export function sampleValue(
  families: Map<string, ParsedFamily>,
  sampleName: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  for (const family of families.values()) {
    for (const s of family.samples) {
      if (s.name === sampleName && JSON.stringify(Object.entries(s.labels).sort()) === want) return s.value;
    }
  }
  return undefined;
}
