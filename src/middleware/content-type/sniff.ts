/**
 * The media type of a body from its first bytes, as Go's http.DetectContentType computes it (the
 * WHATWG MIME Sniffing algorithm, §7 "Determining the computed MIME type of a resource"): at most
 * the first 512 bytes are read; the result is always a valid media type, by default
 * `application/octet-stream`. Traefik's contentType middleware lets Go's server set it.
 */

export const SNIFF_LEN = 512;

const WS = new Set([0x09, 0x0a, 0x0c, 0x0d, 0x20]);

type Sig = (data: Buffer, firstNonWS: number) => string | null;

/** `<TAG` then a space or '>' (case-insensitive), after leading whitespace. */
function html(tag: string): Sig {
  const pat = Buffer.from(tag, 'latin1');
  return (data, start) => {
    const d = data.subarray(start);
    if (d.length < pat.length + 1) return null;
    for (let i = 0; i < pat.length; i++) {
      let b = d[i]!;
      const p = pat[i]!;
      if (p >= 0x41 && p <= 0x5a) b &= 0xdf; // letters compare upper-cased
      if (b !== p) return null;
    }
    const end = d[pat.length]!;
    return end === 0x20 || end === 0x3e ? 'text/html; charset=utf-8' : null;
  };
}

function masked(mask: string, pat: string, ct: string, skipWS = false): Sig {
  const m = Buffer.from(mask, 'latin1');
  const p = Buffer.from(pat, 'latin1');
  return (data, start) => {
    const d = skipWS ? data.subarray(start) : data;
    if (d.length < p.length) return null;
    for (let i = 0; i < p.length; i++) if ((d[i]! & m[i]!) !== p[i]) return null;
    return ct;
  };
}

function exact(pat: string, ct: string): Sig {
  const p = Buffer.from(pat, 'latin1');
  return (data) => (data.length >= p.length && data.subarray(0, p.length).equals(p) ? ct : null);
}

/** ISO base media: a `ftyp` box whose major or a compatible brand is `mp4`. */
const mp4: Sig = (data) => {
  if (data.length < 12) return null;
  const boxSize = data.readUInt32BE(0);
  if (data.length < boxSize || boxSize % 4 !== 0) return null;
  if (data.toString('latin1', 4, 8) !== 'ftyp') return null;
  for (let st = 8; st < boxSize; st += 4) {
    if (st === 12) continue; // the minor version
    if (data.toString('latin1', st, st + 3) === 'mp4') return 'video/mp4';
  }
  return null;
};

/** No binary byte from the first non-whitespace one on: text. */
const text: Sig = (data, start) => {
  for (let i = start; i < data.length; i++) {
    const b = data[i]!;
    if (b <= 0x08 || b === 0x0b || (b >= 0x0e && b <= 0x1a) || (b >= 0x1c && b <= 0x1f)) return null;
  }
  return 'text/plain; charset=utf-8';
};

const SIGS: readonly Sig[] = [
  ...[
    '<!DOCTYPE HTML',
    '<HTML',
    '<HEAD',
    '<SCRIPT',
    '<IFRAME',
    '<H1',
    '<DIV',
    '<FONT',
    '<TABLE',
    '<A',
    '<STYLE',
    '<TITLE',
    '<B',
    '<BODY',
    '<BR',
    '<P',
    '<!--',
  ].map(html),
  masked('\xFF\xFF\xFF\xFF\xFF', '<?xml', 'text/xml; charset=utf-8', true),
  exact('%PDF-', 'application/pdf'),
  exact('%!PS-Adobe-', 'application/postscript'),
  masked('\xFF\xFF\x00\x00', '\xFE\xFF\x00\x00', 'text/plain; charset=utf-16be'),
  masked('\xFF\xFF\x00\x00', '\xFF\xFE\x00\x00', 'text/plain; charset=utf-16le'),
  masked('\xFF\xFF\xFF\x00', '\xEF\xBB\xBF\x00', 'text/plain; charset=utf-8'),
  exact('\x00\x00\x01\x00', 'image/x-icon'),
  exact('\x00\x00\x02\x00', 'image/x-icon'),
  exact('BM', 'image/bmp'),
  exact('GIF87a', 'image/gif'),
  exact('GIF89a', 'image/gif'),
  masked(
    '\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF\xFF\xFF',
    'RIFF\x00\x00\x00\x00WEBPVP',
    'image/webp',
  ),
  exact('\x89PNG\x0D\x0A\x1A\x0A', 'image/png'),
  exact('\xFF\xD8\xFF', 'image/jpeg'),
  masked('\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF', 'FORM\x00\x00\x00\x00AIFF', 'audio/aiff'),
  masked('\xFF\xFF\xFF', 'ID3', 'audio/mpeg'),
  masked('\xFF\xFF\xFF\xFF\xFF', 'OggS\x00', 'application/ogg'),
  masked('\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF', 'MThd\x00\x00\x00\x06', 'audio/midi'),
  masked('\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF', 'RIFF\x00\x00\x00\x00AVI ', 'video/avi'),
  masked('\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF', 'RIFF\x00\x00\x00\x00WAVE', 'audio/wave'),
  mp4,
  exact('\x1A\x45\xDF\xA3', 'video/webm'),
  masked(`${'\x00'.repeat(34)}\xFF\xFF`, `${'\x00'.repeat(34)}LP`, 'application/vnd.ms-fontobject'),
  exact('\x00\x01\x00\x00', 'font/ttf'),
  exact('OTTO', 'font/otf'),
  exact('ttcf', 'font/collection'),
  exact('wOFF', 'font/woff'),
  exact('wOF2', 'font/woff2'),
  exact('\x1F\x8B\x08', 'application/x-gzip'),
  exact('PK\x03\x04', 'application/zip'),
  exact('Rar!\x1A\x07\x00', 'application/x-rar-compressed'),
  exact('Rar!\x1A\x07\x01\x00', 'application/x-rar-compressed'),
  exact('\x00\x61\x73\x6D', 'application/wasm'),
  text,
];

export function detectContentType(body: Buffer): string {
  const data = body.length > SNIFF_LEN ? body.subarray(0, SNIFF_LEN) : body;
  let first = 0;
  while (first < data.length && WS.has(data[first]!)) first++;
  for (const sig of SIGS) {
    const ct = sig(data, first);
    if (ct !== null) return ct;
  }
  return 'application/octet-stream';
}
