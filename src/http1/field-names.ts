/**
 * Lower-case forms of the field names that nearly every request and response carries, as
 * constants. A name sliced out of a head is a new string: lower-casing it allocates another
 * (`toLowerCase`), and each later lookup of it in a Set hashes it again. The constant forms are
 * internalized by V8 with their hash computed once, so `HOP_BY_HOP.has(ln)`, `switch (ln)` and
 * `ln === 'content-length'` cost a pointer comparison instead.
 */
const COMMON = [
  'Host',
  'User-Agent',
  'Accept',
  'Accept-Encoding',
  'Accept-Language',
  'Accept-Ranges',
  'Authorization',
  'Cache-Control',
  'Connection',
  'Content-Encoding',
  'Content-Length',
  'Content-Type',
  'Cookie',
  'Date',
  'ETag',
  'Expect',
  'Expires',
  'If-Modified-Since',
  'If-None-Match',
  'Keep-Alive',
  'Last-Modified',
  'Location',
  'Origin',
  'Referer',
  'Server',
  'Set-Cookie',
  'Transfer-Encoding',
  'Upgrade',
  'Vary',
  'X-Forwarded-For',
  'X-Forwarded-Host',
  'X-Forwarded-Proto',
  'X-Real-Ip',
  'X-Request-Id',
];

/** By length: [as usually written, lower case] pairs; both compare by length before content. */
const BY_LENGTH: (string[] | undefined)[] = [];
for (const name of COMMON) {
  const lower = name.toLowerCase();
  const pairs = BY_LENGTH[name.length] ?? [];
  pairs.push(name, lower);
  BY_LENGTH[name.length] = pairs;
}

/**
 * The lower-case form of field name `name` (ASCII only: field names are tokens): a shared
 * constant for the common names, written in their usual or in lower case; otherwise computed.
 */
export function lowerFieldName(name: string): string {
  const pairs = BY_LENGTH[name.length];
  if (pairs !== undefined) {
    for (let i = 0; i < pairs.length; i += 2) {
      if (name === pairs[i] || name === pairs[i + 1]) return pairs[i + 1]!;
    }
  }
  return toLowerAscii(name);
}

/** Lowercase without the Unicode machinery: field names and hosts are ASCII. */
export function toLowerAscii(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return s.toLowerCase();
  }
  return s;
}
