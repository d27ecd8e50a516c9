import { formatValue } from './exposition.ts';
import type { FamilySet } from './family-set.ts';
import {
  BUCKETS,
  BYTES_IN,
  BYTES_OUT,
  CLASSES,
  CODE_LABELS,
  RETRIES,
  RequestCell,
  SUMS,
} from './request-cells.ts';

export interface RequestGroupNames {
  /** e.g. 'traffic_entrypoint'; the families are `${base}_requests_total` and so on. */
  readonly base: string;
  /** What one label set is, for HELP texts: 'entry point', 'router', 'service'. */
  readonly noun: string;
  /** Render `${base}_retries_total` (services only). */
  readonly retries: boolean;
}

/** The request families of one level (entry point, router or service): one cell per label set. */
export class RequestGroup {
  readonly #names: RequestGroupNames;
  readonly #bounds: Float64Array;
  readonly #cells = new Map<string, RequestCell>();

  constructor(names: RequestGroupNames, bounds: Float64Array) {
    this.#names = names;
    this.#bounds = bounds;
  }

  /** The cell for these label values, made on first use. Not for the hot path: it builds a key. */
  cell(labels: ReadonlyArray<readonly [string, string]>): RequestCell {
    const key = JSON.stringify(labels.map((l) => l[1]));
    let cell = this.#cells.get(key);
    if (cell === undefined) {
      cell = new RequestCell(labels, this.#bounds.length);
      this.#cells.set(key, cell);
    }
    return cell;
  }

  /** Forgets the cells `keep` rejects; their series restart from zero if they come back. */
  prune(keep: (cell: RequestCell) => boolean): void {
    for (const [key, cell] of this.#cells) if (!keep(cell)) this.#cells.delete(key);
  }

  get size(): number {
    return this.#cells.size;
  }

  render(set: FamilySet): void {
    if (this.#cells.size === 0) return;
    const { base, noun } = this.#names;
    const requests = set.lines(`${base}_requests_total`, 'counter', `Requests by ${noun} and status class.`);
    const durationName = `${base}_request_duration_seconds`;
    const duration = set.lines(durationName, 'histogram', `Request durations by ${noun}, in seconds.`);
    const bytesIn = set.lines(`${base}_requests_bytes_total`, 'counter', `Request body bytes by ${noun}.`);
    const bytesOut = set.lines(`${base}_responses_bytes_total`, 'counter', `Response body bytes by ${noun}.`);
    const retries = this.#names.retries
      ? set.lines(`${base}_retries_total`, 'counter', `Attempts after the first by ${noun}.`)
      : null;
    const stride = this.#bounds.length + 1;
    const les = Array.from(this.#bounds, (b) => `le="${formatValue(b)}"`);
    les.push('le="+Inf"');
    for (const cell of this.#cells.values()) {
      const v = cell.values;
      const plain = `{${cell.pairs.slice(0, -1)}}`;
      bytesIn?.push(`${base}_requests_bytes_total${plain} ${formatValue(v[BYTES_IN]!)}`);
      bytesOut?.push(`${base}_responses_bytes_total${plain} ${formatValue(v[BYTES_OUT]!)}`);
      retries?.push(`${base}_retries_total${plain} ${formatValue(v[RETRIES]!)}`);
      for (let cls = 0; cls < CLASSES; cls++) {
        const row = BUCKETS + cls * stride;
        let count = 0;
        for (let b = 0; b < stride; b++) count += v[row + b]!;
        if (count === 0) continue;
        const labels = `${cell.pairs}code="${CODE_LABELS[cls]}"`;
        requests?.push(`${base}_requests_total{${labels}} ${formatValue(count)}`);
        if (duration === null) continue;
        let cumulative = 0;
        for (let b = 0; b < stride; b++) {
          cumulative += v[row + b]!;
          duration.push(`${durationName}_bucket{${labels},${les[b]}} ${formatValue(cumulative)}`);
        }
        duration.push(
          `${durationName}_sum{${labels}} ${formatValue(v[SUMS + cls]!)}`,
          `${durationName}_count{${labels}} ${formatValue(count)}`,
        );
      }
    }
  }
}
