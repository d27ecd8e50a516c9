import {
  braces,
  byCodePoint,
  bySeriesLabels,
  escapeHelp,
  formatValue,
  isValidLabelName,
  isValidMetricName,
  type SeriesLabels,
  seriesLabels,
} from './exposition.ts';
import type { MetricWriter } from './types.ts';

export type FamilyType = 'counter' | 'gauge' | 'histogram';

interface Family {
  readonly type: FamilyType;
  readonly help: string;
  readonly lines: string[];
  /** Label string → index in `lines`, for collector samples only, so that a rewrite replaces. */
  keys: Map<string, number> | null;
  /** Collector samples: each line's label values (sorted by name), for client_golang's order. */
  values: SeriesLabels[] | null;
}

/**
 * The families of one scrape. Each family is printed once (HELP, TYPE, then all of its samples),
 * whichever order and however many calls its samples arrived in, and families are sorted by name
 * so that two scrapes of the same state are byte-identical.
 */
export class FamilySet {
  readonly #families = new Map<string, Family>();
  /** Samples refused because their name, labels or type clashed; reported as a counter. */
  rejected = 0;

  /** The sample lines of a family, or null when the name is already used with another type. */
  lines(name: string, type: FamilyType, help: string): string[] | null {
    let family = this.#families.get(name);
    if (family === undefined) {
      family = { type, help, lines: [], keys: null, values: null };
      this.#families.set(name, family);
    }
    return family.type === type ? family.lines : null;
  }

  /** One collector sample; a second write of the same series replaces the first. */
  sample(
    name: string,
    type: 'counter' | 'gauge',
    help: string,
    labels: Readonly<Record<string, string>>,
    value: number,
  ): void {
    if (!isValidMetricName(name) || !Object.keys(labels).every(isValidLabelName)) {
      this.rejected++;
      return;
    }
    const lines = this.lines(name, type, help);
    if (lines === null) {
      this.rejected++;
      return;
    }
    const family = this.#families.get(name)!;
    family.keys ??= new Map();
    family.values ??= [];
    const series = seriesLabels(Object.entries(labels));
    const labelText = braces(series.text);
    const line = `${name}${labelText} ${formatValue(value)}`;
    const at = family.keys.get(labelText);
    if (at === undefined) {
      family.keys.set(labelText, lines.length);
      lines.push(line);
      family.values.push(series);
    } else {
      lines[at] = line;
    }
  }

  writer(): MetricWriter {
    return {
      counter: (name, help, labels, value) =>
        this.sample(name.endsWith('_total') ? name : `${name}_total`, 'counter', help, labels, value),
      gauge: (name, help, labels, value) => this.sample(name, 'gauge', help, labels, value),
    };
  }

  render(): string {
    const names = [...this.#families.keys()].sort(byCodePoint);
    const out: string[] = [];
    for (const name of names) {
      const family = this.#families.get(name)!;
      if (family.lines.length === 0) continue;
      out.push(`# HELP ${name} ${escapeHelp(family.help)}`, `# TYPE ${name} ${family.type}`);
      const values = family.values;
      if (values !== null && values.length === family.lines.length) {
        // Collector samples (one line each): sorted by label values, as client_golang's Gather.
        const order = values.map((_, i) => i).sort((a, b) => bySeriesLabels(values[a]!, values[b]!));
        for (const i of order) out.push(family.lines[i]!);
      } else for (const line of family.lines) out.push(line);
    }
    return out.length === 0 ? '' : `${out.join('\n')}\n`;
  }
}
