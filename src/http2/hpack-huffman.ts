/**
 * HPACK's Huffman code (RFC 7541 Appendix B), decoding only (we send literals as they are).
 * The code is canonical: each symbol's code follows from the code lengths alone (codes of one
 * length are consecutive, in symbol order, and each length starts where the shorter ones end),
 * so the table is kept as its 257 lengths, one letter each ('A' = 5 bits … 'Z' = 30 bits).
 */
const LENGTHS =
  'ISXXXXXXXTZXXZXXXXXXXXZXXXXXXXXXBFFHIBDGFFDGDBBBAAABBBBBBBCDKBHFIBCCCCCCCCCCCCCCCCCCCCCCDCDIOIJBKABABABBBACCBBBABCBAABCCCCCKGJIXPRPPRRRSRSSSSSTSTTRSTSSSSQRSRSSTRQPRRSSQSRRTQRSSQQRQSRSSPRRRSRRSVVPORSRUVVVWWVTUOQVWWVWTQQVVXWWWPTPQRQQSRRUUTTVSVWVVWWWWWXWWWWWVZ';

const EOS = 256;
const MAX_BITS = 30;
/** Symbols in canonical order (by length, then symbol). */
const SORTED = new Uint16Array(257);
/** Per code length: the first code, how many codes, and where they start in SORTED. */
const FIRST = new Int32Array(MAX_BITS + 1);
const COUNT = new Int32Array(MAX_BITS + 1);
const OFFSET = new Int32Array(MAX_BITS + 1);

(function build(): void {
  const len = new Uint8Array(257);
  for (let s = 0; s < 257; s++) {
    len[s] = LENGTHS.charCodeAt(s) - 0x41 + 5;
    COUNT[len[s]!]!++;
  }
  let pos = 0;
  let code = 0;
  for (let l = 1; l <= MAX_BITS; l++) {
    OFFSET[l] = pos;
    FIRST[l] = code;
    for (let s = 0; s < 257; s++) if (len[s] === l) SORTED[pos++] = s;
    code = (code + COUNT[l]!) << 1;
  }
})();

/**
 * Decodes `src[start..end)` into `out` from offset 0; returns the byte count, or -1 when the
 * input is no valid Huffman string (EOS inside, padding longer than 7 bits or not all ones).
 * `out` must hold `ceil((end - start) * 8 / 5)` bytes (the shortest code is 5 bits).
 */
export function huffmanDecode(src: Buffer, start: number, end: number, out: Buffer): number {
  let n = 0;
  let code = 0;
  let bits = 0;
  for (let i = start; i < end; i++) {
    const byte = src[i]!;
    for (let b = 7; b >= 0; b--) {
      code = (code << 1) | ((byte >> b) & 1);
      bits++;
      if (bits < 5) continue;
      const k = code - FIRST[bits]!;
      if (k >= 0 && k < COUNT[bits]!) {
        const sym = SORTED[OFFSET[bits]! + k]!;
        if (sym === EOS) return -1;
        out[n++] = sym;
        code = 0;
        bits = 0;
      } else if (bits >= MAX_BITS) return -1;
    }
  }
  // §5.2: at most 7 bits of padding, the most significant bits of EOS (all ones).
  if (bits > 7 || code !== (1 << bits) - 1) return -1;
  return n;
}

/** Bytes `huffmanDecode` may write for `n` input bytes. */
export function huffmanBound(n: number): number {
  return Math.ceil((n * 8) / 5);
}
