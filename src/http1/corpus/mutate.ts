import { seededRandom } from '../../../test/helpers/seeded-random.ts';

/** Bytes that change how HTTP/1.1 is tokenised: line ends, separators, digits, controls, high bytes. */
const INTERESTING = [
  0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x2c, 0x30, 0x61, 0x00, 0x80, 0xff, 0x3b, 0x22, 0x0b, 0x7f, 0x2d, 0x3d, 0x5c,
];

/** Field lines whose insertion changes framing or routing: the smuggling classics. */
const INTERESTING_LINES = [
  'Transfer-Encoding: chunked',
  'Transfer-Encoding: xchunked',
  'Transfer-Encoding:  chunked',
  'Transfer-Encoding: chunked\t',
  'Transfer-Encoding\t: chunked',
  'Transfer-Encoding: gzip, chunked',
  'Content-Length: 0',
  'Content-Length: 5',
  'Content-Length: 05',
  'Content-Length: 1, 1',
  'Host: b',
  'Host: a',
  'Connection: close',
  'Connection: keep-alive',
  'Expect: 100-continue',
  ' folded',
  'X:\x00',
  'Proxy-Connection: close',
  'Connection: keep-alive\t',
  'Content-Length: 2\t',
  'Transfer-Encoding: chunked ',
  'Upgrade: websocket',
  'Connection: upgrade',
];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

function splitLines(s: string): string[] {
  return s.split('\r\n');
}

/** One random mutation of `input`. */
export function mutateOnce(input: string, rand: () => number): string {
  const at = Math.floor(rand() * (input.length + 1));
  const byte = String.fromCharCode(pick(rand, INTERESTING));
  switch (Math.floor(rand() * 9)) {
    case 0:
      return input.slice(0, at) + byte + input.slice(at);
    case 1:
      return input.slice(0, at) + input.slice(at + 1);
    case 2:
      return input.slice(0, at) + byte + input.slice(at + 1);
    case 3: {
      const lines = splitLines(input);
      const i = Math.floor(rand() * lines.length);
      lines.splice(i, 0, lines[i]!);
      return lines.join('\r\n');
    }
    case 4: {
      const lines = splitLines(input);
      if (lines.length < 3) return input;
      const i = 1 + Math.floor(rand() * (lines.length - 2));
      const j = 1 + Math.floor(rand() * (lines.length - 2));
      const t = lines[i]!;
      lines[i] = lines[j]!;
      lines[j] = t;
      return lines.join('\r\n');
    }
    case 5: {
      const lines = splitLines(input);
      const i = 1 + Math.floor(rand() * Math.max(1, lines.length - 2));
      lines.splice(i, 0, pick(rand, INTERESTING_LINES));
      return lines.join('\r\n');
    }
    case 6: {
      const lines = splitLines(input);
      lines.splice(Math.floor(rand() * lines.length), 1);
      return lines.join('\r\n');
    }
    case 7: {
      const c = input.charCodeAt(at);
      if (Number.isNaN(c)) return input;
      const flipped = c >= 0x61 && c <= 0x7a ? c - 0x20 : c >= 0x41 && c <= 0x5a ? c + 0x20 : c ^ 0x01;
      return input.slice(0, at) + String.fromCharCode(flipped) + input.slice(at + 1);
    }
    default: {
      // Turn one CRLF into a bare LF or a bare CR: the commonest parser-differential trigger.
      const crlf = input.indexOf('\r\n', at);
      if (crlf === -1) return input;
      return input.slice(0, crlf) + (rand() < 0.5 ? '\n' : '\r') + input.slice(crlf + 2);
    }
  }
}

/** `count` inputs, each one to three mutations away from one of `seeds`. Deterministic per seed. */
export function mutations(seeds: readonly string[], count: number, seed: number): string[] {
  const rand = seededRandom(seed);
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    let s = pick(rand, seeds);
    const n = 1 + Math.floor(rand() * 3);
    for (let m = 0; m < n; m++) s = mutateOnce(s, rand);
    out.push(s);
  }
  return out;
}
