/** The runner's text tables: a column is a title and a width; the first is left-aligned. */
export type Columns = ReadonlyArray<readonly [title: string, width: number]>;

/** One row of `cols`: the first cell padded on the right, the others on the left. */
export function tableRow(cols: Columns, cells: readonly string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(cols[i]![1]) : c.padStart(cols[i]![1]))).join('  ');
}

/** A number with `digits` decimals, or `n/a`. */
export function num(v: number | null, digits: number): string {
  return v === null ? 'n/a' : v.toFixed(digits);
}

/** KiB as MB with one decimal, or `n/a`. */
export function mb(kb: number | null): string {
  return kb === null ? 'n/a' : (kb / 1024).toFixed(1);
}
