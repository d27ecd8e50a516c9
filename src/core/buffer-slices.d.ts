// Node's Buffer has had these encoding-specific slices since v0.x; `toString(enc, s, e)` is a thin
// wrapper that dispatches to them. The codec calls them directly on the hot path.
declare global {
  interface Buffer {
    latin1Slice(start?: number, end?: number): string;
    latin1Write(string: string, offset?: number, length?: number): number;
  }
}

export {};
