import http from 'node:http';
import { PATH_VARIANTS } from './paths.ts';

/** A named input for the differential test: raw bytes as a latin1 string. */
export interface Case {
  readonly name: string;
  readonly bytes: string;
}

const H = 'Host: a\r\n';

function get(headers: string, target = '/', version = 'HTTP/1.1'): string {
  return `GET ${target} ${version}\r\n${headers}\r\n`;
}

function post(headers: string, body: string): string {
  return `POST /p HTTP/1.1\r\n${H}${headers}\r\n${body}`;
}

function hex2(c: number): string {
  return c.toString(16).padStart(2, '0');
}

const CHUNKED = 'Transfer-Encoding: chunked\r\n';

const valid: Case[] = [
  { name: 'a minimal GET', bytes: get(H) },
  { name: 'a HEAD', bytes: `HEAD / HTTP/1.1\r\n${H}\r\n` },
  {
    name: 'a GET with a query and several headers',
    bytes: get(`${H}Accept: */*\r\nX-A: 1\r\nx-a: 2\r\n`, '/a/b?c=d&e'),
  },
  { name: 'an empty query', bytes: get(H, '/a?') },
  { name: 'a percent-encoded path', bytes: get(H, '/a%20b/%2e%2e/c') },
  { name: 'a path starting with //', bytes: get(H, '//evil.example/x') },
  { name: 'a POST with Content-Length', bytes: post('Content-Length: 5\r\n', 'hello') },
  { name: 'a POST with Content-Length 0', bytes: post('Content-Length: 0\r\n', '') },
  { name: 'a Content-Length with leading zeros', bytes: post('Content-Length: 005\r\n', 'hello') },
  { name: 'a Content-Length with surrounding whitespace', bytes: post('Content-Length: \t5 \r\n', 'hello') },
  { name: 'a chunked POST', bytes: post(CHUNKED, '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n') },
  { name: 'a chunked POST with uppercase hex', bytes: post(CHUNKED, `A\r\n${'x'.repeat(10)}\r\n0\r\n\r\n`) },
  { name: 'chunk extensions', bytes: post(CHUNKED, '5;a=b;c\r\nhello\r\n0;z=1\r\n\r\n') },
  { name: 'a quoted chunk extension', bytes: post(CHUNKED, '5;a="b c"\r\nhello\r\n0\r\n\r\n') },
  { name: 'trailers', bytes: post(CHUNKED, '5\r\nhello\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n') },
  { name: 'an HTTP/1.0 request without Host', bytes: 'GET / HTTP/1.0\r\n\r\n' },
  { name: 'an HTTP/1.0 keep-alive request', bytes: 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' },
  { name: 'two pipelined GETs', bytes: get(H, '/1') + get(H, '/2') },
  { name: 'a POST then a GET pipelined', bytes: post('Content-Length: 2\r\n', 'hi') + get(H, '/2') },
  {
    name: 'a chunked POST then a GET pipelined',
    bytes: post(CHUNKED, '2\r\nhi\r\n0\r\n\r\n') + get(H, '/2'),
  },
  { name: 'an absolute-form target with a matching Host', bytes: get(H, 'http://a/x?y') },
  { name: 'an absolute-form target without a path', bytes: get(H, 'http://a') },
  { name: 'an absolute-form target with a port', bytes: get('Host: a:8080\r\n', 'http://a:8080/x') },
  { name: 'OPTIONS *', bytes: `OPTIONS * HTTP/1.1\r\n${H}\r\n` },
  { name: 'Expect: 100-continue', bytes: post('Expect: 100-continue\r\nContent-Length: 2\r\n', 'hi') },
  { name: 'Connection: close', bytes: get(`${H}Connection: close\r\n`) },
  { name: 'Connection: close followed by another request', bytes: get(`${H}Connection: close\r\n`) + get(H) },
  { name: 'an HTTP/1.0 request followed by another', bytes: `GET / HTTP/1.0\r\n\r\n${get(H)}` },
  {
    name: 'an HTTP/1.0 keep-alive request followed by another',
    bytes: `GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n${get(H)}`,
  },
  { name: 'a Connection list with options', bytes: get(`${H}Connection: keep-alive, x-foo\r\nX-Foo: 1\r\n`) },
  { name: 'two Connection fields', bytes: get(`${H}Connection: x-a\r\nConnection: close\r\n`) },
  {
    name: 'Connection: Upgrade with Upgrade: websocket',
    bytes: get(`${H}Connection: Upgrade\r\nUpgrade: websocket\r\n`),
  },
  {
    name: 'an h2c upgrade request',
    bytes: get(
      `${H}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n`,
    ),
  },
  { name: 'field names with every tchar', bytes: get(`${H}!#$%&'*+-.^_\`|~09azAZ: v\r\n`) },
  { name: 'an empty field value', bytes: get(`${H}X-Empty:\r\nX-Sp: \r\n`) },
  { name: 'high bytes in a field value', bytes: get(`${H}X: caf\xe9 \x80\xff\r\n`) },
  { name: 'a 8000-byte field value', bytes: get(`${H}X-Long: ${'v'.repeat(8000)}\r\n`) },
  { name: 'a tab inside a value', bytes: get(`${H}X: a\tb\r\n`) },
  { name: 'uppercase Host', bytes: get('Host: A.EXAMPLE.\r\n') },
  { name: 'Host with a port', bytes: get('Host: a.example:8080\r\n') },
  { name: 'an IPv6 Host', bytes: get('Host: [::1]:8080\r\n') },
  { name: 'an empty Host', bytes: get('Host:\r\n') },
  { name: 'Host with an empty port', bytes: get('Host: a:\r\n') },
  { name: 'Transfer-Encoding: Chunked (case)', bytes: post('Transfer-Encoding: Chunked\r\n', '0\r\n\r\n') },
  { name: 'Transfer-Encoding: CHUNKED', bytes: post('Transfer-Encoding: CHUNKED\r\n', '0\r\n\r\n') },
  {
    name: 'Transfer-Encoding: chunked with a trailing tab',
    bytes: post('Transfer-Encoding: chunked\t\r\n', '0\r\n\r\n'),
  },
  {
    name: 'Transfer-Encoding with a leading space',
    bytes: post('Transfer-Encoding:  chunked\r\n', '0\r\n\r\n'),
  },
  {
    name: 'Transfer_Encoding (underscore) is just a field',
    bytes: post('Transfer_Encoding: chunked\r\nContent-Length: 3\r\n', 'abc'),
  },
  { name: 'a GET with a body', bytes: `GET / HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabc` },
];

const methods: Case[] = http.METHODS.map((m) => ({
  name: `method ${m}`,
  bytes: `${m} ${m === 'CONNECT' ? 'a:443' : '/'} HTTP/1.1\r\n${H}\r\n`,
}));

const requestLine: Case[] = [
  { name: 'a double space after the method', bytes: `GET  / HTTP/1.1\r\n${H}\r\n` },
  { name: 'a double space before the version', bytes: `GET /  HTTP/1.1\r\n${H}\r\n` },
  { name: 'a trailing space after the version', bytes: `GET / HTTP/1.1 \r\n${H}\r\n` },
  { name: 'a tab between method and target', bytes: `GET\t/ HTTP/1.1\r\n${H}\r\n` },
  { name: 'a tab between target and version', bytes: `GET /\tHTTP/1.1\r\n${H}\r\n` },
  { name: 'lowercase http/1.1', bytes: `GET / http/1.1\r\n${H}\r\n` },
  { name: 'HTTP/1.2', bytes: `GET / HTTP/1.2\r\n${H}\r\n` },
  { name: 'HTTP/2.0', bytes: `GET / HTTP/2.0\r\n${H}\r\n` },
  { name: 'HTTP/2', bytes: `GET / HTTP/2\r\n${H}\r\n` },
  { name: 'HTTP/1.10', bytes: `GET / HTTP/1.10\r\n${H}\r\n` },
  { name: 'HTTP/0.9', bytes: 'GET /\r\n\r\n' },
  {
    name: 'HTTP/0.9 with a bare LF, headers and a body (llhttp #877)',
    bytes: `GET /x\n${H}Content-Length: 5\r\n\r\nhello`,
  },
  { name: 'HTTP/0.9 request line then a smuggled request', bytes: `GET /x\r\n${get(H, '/admin')}` },
  { name: 'a request line ending in a bare LF', bytes: `GET / HTTP/1.1\n${H}\r\n` },
  { name: 'a request line ending in a bare CR', bytes: `GET / HTTP/1.1\r${H}\r\n` },
  { name: 'a missing target', bytes: `GET HTTP/1.1\r\n${H}\r\n` },
  { name: 'a lowercase method', bytes: `get / HTTP/1.1\r\n${H}\r\n` },
  { name: 'an unknown method', bytes: `FOO / HTTP/1.1\r\n${H}\r\n` },
  { name: 'a method with a non-token byte', bytes: `GE(T / HTTP/1.1\r\n${H}\r\n` },
  { name: 'the HTTP/2 preface', bytes: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' },
  { name: 'a leading CRLF before the request line', bytes: `\r\n${get(H)}` },
  { name: 'a leading LF before the request line', bytes: `\n${get(H)}` },
  { name: 'a leading space before the method', bytes: ` ${get(H)}` },
  { name: 'asterisk-form with GET', bytes: get(H, '*') },
  { name: 'asterisk-form with extra characters', bytes: `OPTIONS *x HTTP/1.1\r\n${H}\r\n` },
  { name: 'a fragment in the target', bytes: get(H, '/a#frag') },
  { name: 'a fragment after the query', bytes: get(H, '/a?b#c') },
  { name: 'a space inside the target', bytes: `GET /a b HTTP/1.1\r\n${H}\r\n` },
  { name: 'absolute-form with a different Host', bytes: get('Host: b\r\n', 'http://a/x') },
  { name: 'absolute-form with userinfo', bytes: get(H, 'http://u@a/x') },
  { name: 'absolute-form with an unknown scheme', bytes: get(H, 'ftp://a/x') },
  { name: 'absolute-form without Host', bytes: get('', 'http://a/x') },
  { name: 'authority-form with GET', bytes: get(H, 'a:80') },
  { name: 'a target that is just a query', bytes: get(H, '?x') },
  {
    name: 'a request line of exactly 8 KiB',
    bytes: get(H, `/${'a'.repeat(8192 - 'GET / HTTP/1.1'.length)}`),
  },
  { name: 'a request line over 8 KiB', bytes: get(H, `/${'a'.repeat(8200)}`) },
  { name: 'a request line over 16 KiB', bytes: get(H, `/${'a'.repeat(17000)}`) },
];
for (const c of [0x00, 0x01, 0x09, 0x0b, 0x0c, 0x0d, 0x7f, 0x80, 0xc3, 0xff]) {
  requestLine.push({
    name: `byte 0x${hex2(c)} in the target`,
    bytes: get(H, `/a${String.fromCharCode(c)}b`),
  });
}
for (const c of '"<>\\^`{|}[]')
  requestLine.push({ name: `${c} in the target`, bytes: get(H, `/a${c}b?${c}`) });

const fields: Case[] = [
  { name: 'a bare CR in a value', bytes: get(`${H}X: a\rb\r\n`) },
  { name: 'a bare CR at the end of a value', bytes: get(`${H}X: a\r\r\n`) },
  { name: 'a field line ending in a bare LF', bytes: get(`${H}X: a\nY: b\r\n`) },
  { name: 'the last field line ending in a bare LF', bytes: `GET / HTTP/1.1\r\n${H}X: a\n\r\n` },
  { name: 'a head ending in LF LF', bytes: `GET / HTTP/1.1\r\nHost: a\n\n` },
  { name: 'a head ending in CRLF LF', bytes: `GET / HTTP/1.1\r\nHost: a\r\n\n` },
  { name: 'obs-fold', bytes: get(`${H}X: a\r\n b\r\n`) },
  { name: 'obs-fold with a tab', bytes: get(`${H}X: a\r\n\tb\r\n`) },
  { name: 'whitespace before the first field', bytes: `GET / HTTP/1.1\r\n ${H}\r\n` },
  { name: 'a tab before the first field', bytes: `GET / HTTP/1.1\r\n\t${H}\r\n` },
  { name: 'a space before the colon', bytes: get(`${H}X : a\r\n`) },
  { name: 'a tab before the colon', bytes: get(`${H}X\t: a\r\n`) },
  { name: 'a field line without a colon', bytes: get(`${H}X a\r\n`) },
  { name: 'an empty field name', bytes: get(`${H}: a\r\n`) },
  { name: 'a field line that is just whitespace', bytes: get(`${H} \r\n`) },
  { name: 'two colons', bytes: get(`${H}X:: a\r\n`) },
  {
    name: 'a 16 KiB head (at the limit)',
    bytes: get(`${H}X: ${'v'.repeat(16384 - 'GET / HTTP/1.1\r\nHost: a\r\nX: \r\n\r\n'.length)}\r\n`),
  },
  {
    name: 'a head one byte over 16 KiB',
    bytes: get(`${H}X: ${'v'.repeat(16385 - 'GET / HTTP/1.1\r\nHost: a\r\nX: \r\n\r\n'.length)}\r\n`),
  },
  { name: 'a head of 16 KiB + 64 bytes', bytes: get(`${H}X: ${'v'.repeat(16384 + 64)}\r\n`) },
  {
    name: 'a head just under 16 KiB split over many fields',
    bytes: get(`${H}${'X-Abcdefgh: 0123456789abcdef\r\n'.repeat(500)}`),
  },
  { name: '200 fields', bytes: get(`${H}${'X: y\r\n'.repeat(199)}`) },
  { name: '201 fields', bytes: get(`${H}${'X: y\r\n'.repeat(200)}`) },
  { name: '2100 fields', bytes: get(`${H}${'X: y\r\n'.repeat(2100)}`) },
  { name: 'a duplicate Host', bytes: get(`${H}${H}`) },
  { name: 'two different Hosts', bytes: get(`${H}Host: b\r\n`) },
  { name: 'a missing Host', bytes: get('Accept: */*\r\n') },
  { name: 'Host: a b', bytes: get('Host: a b\r\n') },
  { name: 'Host: a@b', bytes: get('Host: a@b\r\n') },
  { name: 'Host: [::1', bytes: get('Host: [::1\r\n') },
  { name: 'Host: x:99999', bytes: get('Host: x:99999\r\n') },
  { name: 'Host: x:abc', bytes: get('Host: x:abc\r\n') },
  { name: 'Host: a,b', bytes: get('Host: a,b\r\n') },
  { name: 'Host: a/b', bytes: get('Host: a/b\r\n') },
  { name: 'Host with two ports', bytes: get('Host: a:1:2\r\n') },
  { name: 'Host with a high byte', bytes: get('Host: \xe9.example\r\n') },
  { name: 'Expect: 100-Continue (case)', bytes: post('Expect: 100-Continue\r\nContent-Length: 1\r\n', 'x') },
  { name: 'Expect: foo', bytes: get(`${H}Expect: foo\r\n`) },
  { name: 'two Expect fields', bytes: get(`${H}Expect: 100-continue\r\nExpect: 100-continue\r\n`) },
  { name: 'Expect in HTTP/1.0', bytes: 'GET / HTTP/1.0\r\nExpect: foo\r\n\r\n' },
  { name: 'Connection naming Host', bytes: get(`${H}Connection: host\r\n`) },
  {
    name: 'Connection naming Content-Length',
    bytes: post('Connection: content-length\r\nContent-Length: 1\r\n', 'x'),
  },
  {
    name: 'Connection naming Transfer-Encoding',
    bytes: post(`Connection: transfer-encoding\r\n${CHUNKED}`, '0\r\n\r\n'),
  },
  { name: 'Connection: xclose', bytes: get(`${H}Connection: xclose\r\n`) + get(H) },
  { name: 'Connection: close x', bytes: get(`${H}Connection: close x\r\n`) + get(H) },
  { name: 'Connection: closex', bytes: get(`${H}Connection: closex\r\n`) + get(H) },
  {
    name: 'Connection: keep-alive in HTTP/1.0 with a token after',
    bytes: `GET / HTTP/1.0\r\nConnection: keep-alive, x\r\n\r\n${get(H)}`,
  },
  {
    name: 'Connection: keep-alivex in HTTP/1.0',
    bytes: `GET / HTTP/1.0\r\nConnection: keep-alivex\r\n\r\n${get(H)}`,
  },
  { name: 'Connection: ,close', bytes: get(`${H}Connection: ,close\r\n`) + get(H) },
  { name: 'Connection: close,', bytes: get(`${H}Connection: close,\r\n`) + get(H) },
  { name: 'Proxy-Connection: close', bytes: get(`${H}Proxy-Connection: close\r\n`) + get(H) },
  {
    name: 'Proxy-Connection: keep-alive in HTTP/1.0',
    bytes: `GET / HTTP/1.0\r\nProxy-Connection: keep-alive\r\n\r\n${get(H)}`,
  },
  { name: 'Connection: close with a trailing tab', bytes: get(`${H}Connection: close\t\r\n`) + get(H) },
  {
    name: 'Connection: keep-alive with a trailing tab in HTTP/1.0',
    bytes: `GET / HTTP/1.0\r\nConnection: keep-alive\t\r\n\r\n${get(H)}`,
  },
  {
    name: 'Connection: Keep-Alive (case) in HTTP/1.0',
    bytes: `GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n${get(H)}`,
  },
  {
    name: 'Connection: keep-alive then close in HTTP/1.0',
    bytes: `GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n${get(H)}`,
  },
  {
    name: 'Connection: keep-alive, close in HTTP/1.1',
    bytes: get(`${H}Connection: keep-alive, close\r\n`) + get(H),
  },
  {
    name: 'Connection:  keep-alive  ,  x  in HTTP/1.0',
    bytes: `GET / HTTP/1.0\r\nConnection:  keep-alive  ,  x \r\n\r\n${get(H)}`,
  },
  {
    name: 'Connection: keep-alive;x in HTTP/1.0',
    bytes: `GET / HTTP/1.0\r\nConnection: keep-alive;x\r\n\r\n${get(H)}`,
  },
  {
    name: 'an Upgrade request followed by another request',
    bytes: get(`${H}Connection: upgrade\r\nUpgrade: websocket\r\n`) + get(H),
  },
  {
    name: 'an Upgrade request with a body',
    bytes: post('Connection: upgrade\r\nUpgrade: websocket\r\nContent-Length: 2\r\n', 'hi') + get(H),
  },
  {
    name: 'Expect: 100-continue with a trailing tab',
    bytes: post('Expect: 100-continue\t\r\nContent-Length: 1\r\n', 'x'),
  },
  { name: 'Host with a trailing tab', bytes: get('Host: a\t\r\n') },
];
for (let c = 0; c < 0x20; c++) {
  if (c === 0x09) continue;
  fields.push({ name: `byte 0x${hex2(c)} in a value`, bytes: get(`${H}X: a${String.fromCharCode(c)}b\r\n`) });
}
for (const c of [0x00, 0x7f]) {
  fields.push({
    name: `byte 0x${hex2(c)} at the end of a value`,
    bytes: get(`${H}X: a${String.fromCharCode(c)}\r\n`),
  });
}
for (const c of [0x7f])
  fields.push({ name: `byte 0x${hex2(c)} in a value`, bytes: get(`${H}X: a${String.fromCharCode(c)}b\r\n`) });
for (const c of '"(),/;<=>?@[\\]{}\x00\x7f\x80\xff') {
  fields.push({ name: `byte 0x${hex2(c.charCodeAt(0))} in a field name`, bytes: get(`${H}X${c}Y: a\r\n`) });
}

const framing: Case[] = [
  { name: 'CL and TE (CL.TE)', bytes: post(`Content-Length: 6\r\n${CHUNKED}`, '0\r\n\r\nG') },
  { name: 'TE and CL (TE.CL)', bytes: post(`${CHUNKED}Content-Length: 3\r\n`, '8\r\nSMUGGLED\r\n0\r\n\r\n') },
  { name: 'two equal Content-Lengths', bytes: post('Content-Length: 0\r\nContent-Length: 0\r\n', '') },
  { name: 'two different Content-Lengths', bytes: post('Content-Length: 1\r\nContent-Length: 2\r\n', 'ab') },
  { name: 'a Content-Length list', bytes: post('Content-Length: 2, 2\r\n', 'ab') },
  { name: 'Content-Length: +5', bytes: post('Content-Length: +5\r\n', 'hello') },
  { name: 'Content-Length: -1', bytes: post('Content-Length: -1\r\n', '') },
  { name: 'Content-Length: 0x5', bytes: post('Content-Length: 0x5\r\n', 'hello') },
  { name: 'Content-Length: 5 5', bytes: post('Content-Length: 5 5\r\n', 'hello') },
  { name: 'an empty Content-Length', bytes: post('Content-Length:\r\n', '') },
  { name: 'Content-Length: 1.0', bytes: post('Content-Length: 1.0\r\n', 'x') },
  { name: 'a 15-digit Content-Length', bytes: post('Content-Length: 000000000000005\r\n', 'hello') },
  { name: 'a 16-digit Content-Length', bytes: post('Content-Length: 0000000000000005\r\n', 'hello') },
  { name: 'a 20-digit Content-Length', bytes: post('Content-Length: 18446744073709551616\r\n', 'x') },
  { name: 'Content-Length with a tab before the colon', bytes: post('Content-Length\t: 1\r\n', 'x') },
  { name: 'Content-Length with a space before the colon', bytes: post('Content-Length : 1\r\n', 'x') },
  { name: 'Content-Length folded onto the next line', bytes: post('Content-Length:\r\n 1\r\n', 'x') },
  { name: 'Content-Length with a NUL', bytes: post('Content-Length: 1\x00\r\n', 'x') },
  { name: 'Content-Length shorter than the body', bytes: post('Content-Length: 2\r\n', 'abcd') },
  { name: 'Content-Length longer than the body', bytes: post('Content-Length: 10\r\n', 'abcd') },
  { name: 'Transfer-Encoding: xchunked', bytes: post('Transfer-Encoding: xchunked\r\n', '0\r\n\r\n') },
  { name: 'Transfer-Encoding: chunkedx', bytes: post('Transfer-Encoding: chunkedx\r\n', '0\r\n\r\n') },
  { name: 'Transfer-Encoding: chunk', bytes: post('Transfer-Encoding: chunk\r\n', '0\r\n\r\n') },
  { name: 'Transfer-Encoding: x chunked', bytes: post('Transfer-Encoding: x chunked\r\n', '0\r\n\r\n') },
  {
    name: 'Transfer-Encoding: gzip, chunked',
    bytes: post('Transfer-Encoding: gzip, chunked\r\n', '0\r\n\r\n'),
  },
  {
    name: 'Transfer-Encoding: chunked, gzip',
    bytes: post('Transfer-Encoding: chunked, gzip\r\n', '0\r\n\r\n'),
  },
  {
    name: 'Transfer-Encoding: chunked, chunked',
    bytes: post('Transfer-Encoding: chunked, chunked\r\n', '0\r\n\r\n'),
  },
  { name: 'Transfer-Encoding: chunked,', bytes: post('Transfer-Encoding: chunked,\r\n', '0\r\n\r\n') },
  { name: 'Transfer-Encoding: , chunked', bytes: post('Transfer-Encoding: , chunked\r\n', '0\r\n\r\n') },
  { name: 'Transfer-Encoding: identity', bytes: post('Transfer-Encoding: identity\r\n', '') },
  { name: 'Transfer-Encoding: gzip', bytes: post('Transfer-Encoding: gzip\r\n', 'abc') },
  { name: 'an empty Transfer-Encoding', bytes: post('Transfer-Encoding:\r\n', '') },
  {
    name: 'Transfer-Encoding: chunked with a vertical tab',
    bytes: post('Transfer-Encoding: chunked\x0b\r\n', '0\r\n\r\n'),
  },
  {
    name: 'Transfer-Encoding: chunked with a NUL',
    bytes: post('Transfer-Encoding: chunked\x00\r\n', '0\r\n\r\n'),
  },
  { name: 'Transfer-Encoding: \\x0bchunked', bytes: post('Transfer-Encoding: \x0bchunked\r\n', '0\r\n\r\n') },
  {
    name: 'Transfer-Encoding with a tab before the colon',
    bytes: post('Transfer-Encoding\t: chunked\r\n', '0\r\n\r\n'),
  },
  {
    name: 'Transfer-Encoding with a space before the colon',
    bytes: post('Transfer-Encoding : chunked\r\n', '0\r\n\r\n'),
  },
  { name: 'Transfer-Encoding folded', bytes: post('Transfer-Encoding:\r\n chunked\r\n', '0\r\n\r\n') },
  {
    name: 'Transfer-Encoding as an obs-fold continuation',
    bytes: post('X: y\r\n Transfer-Encoding: chunked\r\n', '0\r\n\r\n'),
  },
  { name: 'two Transfer-Encoding: chunked', bytes: post(`${CHUNKED}${CHUNKED}`, '0\r\n\r\n') },
  {
    name: 'Transfer-Encoding chunked then identity',
    bytes: post(`${CHUNKED}Transfer-Encoding: identity\r\n`, '0\r\n\r\n'),
  },
  {
    name: 'Transfer-Encoding identity then chunked',
    bytes: post(`Transfer-Encoding: identity\r\n${CHUNKED}`, '0\r\n\r\n'),
  },
  { name: 'Transfer-Encoding in HTTP/1.0', bytes: `POST / HTTP/1.0\r\n${CHUNKED}\r\n0\r\n\r\n` },
  {
    name: 'Transfer-Encoding in HTTP/1.0 with Content-Length',
    bytes: `POST / HTTP/1.0\r\n${CHUNKED}Content-Length: 5\r\n\r\n0\r\n\r\n`,
  },
  {
    name: 'TE with two Content-Length: 0',
    bytes: post(`${CHUNKED}Content-Length: 0\r\nContent-Length: 0\r\n`, '0\r\n\r\n'),
  },
  {
    name: 'Transfer-Encoding: chunked with a trailing space',
    bytes: post('Transfer-Encoding: chunked \r\n', '0\r\n\r\n'),
  },
  {
    name: 'Transfer-Encoding: chunked with a trailing space and tab',
    bytes: post('Transfer-Encoding: chunked \t\r\n', '0\r\n\r\n'),
  },
  {
    name: 'Transfer-Encoding: chunked with a leading tab',
    bytes: post('Transfer-Encoding:\tchunked\r\n', '0\r\n\r\n'),
  },
  {
    name: 'Transfer-Encoding: gzip,chunked with a tab after the comma',
    bytes: post('Transfer-Encoding: gzip,\tchunked\r\n', '0\r\n\r\n'),
  },
  {
    name: 'a GET with Transfer-Encoding: chunked and a trailing tab',
    bytes: get(`${H}Transfer-Encoding: chunked\t\r\n`),
  },
  { name: 'Content-Length with a trailing tab', bytes: post('Content-Length: 5\t\r\n', 'hello') },
  { name: 'Content-Length with a leading tab', bytes: post('Content-Length:\t5\r\n', 'hello') },
  { name: 'Content-Length with a trailing space', bytes: post('Content-Length: 5 \r\n', 'hello') },
  {
    name: 'a chunked body then smuggled bytes',
    bytes: post(CHUNKED, '0\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n'),
  },
];

const chunks: Case[] = [
  { name: 'a bare LF after the chunk size', bytes: post(CHUNKED, '5\nhello\r\n0\r\n\r\n') },
  { name: 'a bare LF after chunk data', bytes: post(CHUNKED, '5\r\nhello\n0\r\n\r\n') },
  { name: 'a bare LF after the last chunk', bytes: post(CHUNKED, '5\r\nhello\r\n0\n\r\n') },
  { name: 'a bare LF ending the body', bytes: post(CHUNKED, '5\r\nhello\r\n0\r\n\n') },
  { name: 'missing CRLF after chunk data', bytes: post(CHUNKED, '5\r\nhelloXX0\r\n\r\n') },
  { name: 'chunk data longer than the size', bytes: post(CHUNKED, '3\r\nhello\r\n0\r\n\r\n') },
  { name: 'a non-hex chunk size', bytes: post(CHUNKED, 'g\r\nhello\r\n0\r\n\r\n') },
  { name: 'a 0x-prefixed chunk size', bytes: post(CHUNKED, '0x5\r\nhello\r\n0\r\n\r\n') },
  { name: 'a negative chunk size', bytes: post(CHUNKED, '-5\r\nhello\r\n0\r\n\r\n') },
  { name: 'a space before the chunk size', bytes: post(CHUNKED, ' 5\r\nhello\r\n0\r\n\r\n') },
  { name: 'a space after the chunk size', bytes: post(CHUNKED, '5 \r\nhello\r\n0\r\n\r\n') },
  { name: 'a tab after the chunk size', bytes: post(CHUNKED, '5\t\r\nhello\r\n0\r\n\r\n') },
  { name: 'whitespace before a chunk extension', bytes: post(CHUNKED, '5 ;a=b\r\nhello\r\n0\r\n\r\n') },
  { name: 'an empty chunk size', bytes: post(CHUNKED, '\r\nhello\r\n0\r\n\r\n') },
  { name: 'a 16-hex-digit chunk size', bytes: post(CHUNKED, 'ffffffffffffffff\r\nx\r\n0\r\n\r\n') },
  {
    name: 'a 17-hex-digit chunk size (overflow)',
    bytes: post(CHUNKED, '10000000000000005\r\nhello\r\n0\r\n\r\n'),
  },
  {
    name: 'a chunk size with many leading zeros',
    bytes: post(CHUNKED, '00000000000000005\r\nhello\r\n0\r\n\r\n'),
  },
  { name: 'a bare CR in a chunk extension', bytes: post(CHUNKED, '5;a\rb\r\nhello\r\n0\r\n\r\n') },
  { name: 'a bare LF in a chunk extension', bytes: post(CHUNKED, '5;a\nb\r\nhello\r\n0\r\n\r\n') },
  { name: 'a NUL in a chunk extension', bytes: post(CHUNKED, '5;a=\x00\r\nhello\r\n0\r\n\r\n') },
  { name: 'an unterminated quoted chunk extension', bytes: post(CHUNKED, '5;a="b\r\nhello\r\n0\r\n\r\n') },
  { name: 'an empty chunk extension', bytes: post(CHUNKED, '5;\r\nhello\r\n0\r\n\r\n') },
  { name: 'a chunk extension without a name', bytes: post(CHUNKED, '5;=b\r\nhello\r\n0\r\n\r\n') },
  { name: 'a chunk extension with an empty value', bytes: post(CHUNKED, '5;a=\r\nhello\r\n0\r\n\r\n') },
  { name: 'a chunk extension with two equals signs', bytes: post(CHUNKED, '5;a==b\r\nhello\r\n0\r\n\r\n') },
  { name: 'two semicolons in a chunk extension', bytes: post(CHUNKED, '5;a;;b\r\nhello\r\n0\r\n\r\n') },
  { name: 'a trailing semicolon in a chunk extension', bytes: post(CHUNKED, '5;a=b;\r\nhello\r\n0\r\n\r\n') },
  { name: 'a quoted chunk extension name', bytes: post(CHUNKED, '5;"a"\r\nhello\r\n0\r\n\r\n') },
  {
    name: 'text after a quoted chunk extension value',
    bytes: post(CHUNKED, '5;a="b"c\r\nhello\r\n0\r\n\r\n'),
  },
  { name: 'a quote inside a chunk extension token', bytes: post(CHUNKED, '5;a=b"c"\r\nhello\r\n0\r\n\r\n') },
  { name: 'a quoted-pair in a chunk extension', bytes: post(CHUNKED, '5;a="b\\"c"\r\nhello\r\n0\r\n\r\n') },
  { name: 'a space inside a chunk extension', bytes: post(CHUNKED, '5;a b\r\nhello\r\n0\r\n\r\n') },
  { name: 'whitespace around = in a chunk extension', bytes: post(CHUNKED, '5;a = b\r\nhello\r\n0\r\n\r\n') },
  {
    name: 'a high byte in a quoted chunk extension',
    bytes: post(CHUNKED, '5;a="\xe9"\r\nhello\r\n0\r\n\r\n'),
  },
  {
    name: 'a chunk extension flood (5000 bytes)',
    bytes: post(CHUNKED, `5;${'a'.repeat(5000)}\r\nhello\r\n0\r\n\r\n`),
  },
  {
    name: 'a chunk extension flood (20000 bytes)',
    bytes: post(CHUNKED, `5;${'a'.repeat(20000)}\r\nhello\r\n0\r\n\r\n`),
  },
  { name: 'a trailer with a bare LF', bytes: post(CHUNKED, '0\r\nX: a\nY: b\r\n\r\n') },
  { name: 'a trailer with obs-fold', bytes: post(CHUNKED, '0\r\nX: a\r\n b\r\n\r\n') },
  { name: 'a trailer with whitespace before the colon', bytes: post(CHUNKED, '0\r\nX : a\r\n\r\n') },
  { name: 'a trailer without a colon', bytes: post(CHUNKED, '0\r\nXa\r\n\r\n') },
  { name: 'a trailer with a NUL', bytes: post(CHUNKED, '0\r\nX: a\x00\r\n\r\n') },
  { name: 'a Content-Length trailer', bytes: post(CHUNKED, '0\r\nContent-Length: 5\r\n\r\n') },
  {
    name: 'a chunked body followed by a stray CRLF and a request',
    bytes: post(CHUNKED, '0\r\n\r\n\r\n') + get(H),
  },
  { name: 'a Transfer-Encoding trailer', bytes: post(CHUNKED, '0\r\nTransfer-Encoding: chunked\r\n\r\n') },
  {
    name: 'a Connection: close trailer then a request',
    bytes: post(CHUNKED, '0\r\nConnection: close\r\n\r\n') + get(H),
  },
  {
    name: 'a Connection: keep-alive trailer in HTTP/1.0',
    bytes: `POST / HTTP/1.0\r\nContent-Length: 0\r\n\r\n`,
  },
  { name: 'a Host trailer', bytes: post(CHUNKED, '0\r\nHost: b\r\n\r\n') },
  { name: 'a Trailer trailer', bytes: post(CHUNKED, '0\r\nTrailer: x\r\n\r\n') },
  {
    name: 'a Proxy-Connection: close trailer then a request',
    bytes: post(CHUNKED, '0\r\nProxy-Connection: close\r\n\r\n') + get(H),
  },
  {
    name: 'an Upgrade trailer',
    bytes: post(CHUNKED, '0\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n') + get(H),
  },
  { name: 'a missing final CRLF', bytes: post(CHUNKED, '5\r\nhello\r\n0\r\n') },
];

/** Traversal and encoding variants (paths.ts): refused or made canonical before routing. */
const paths: Case[] = PATH_VARIANTS.map((p) => ({ name: `the path ${p}`, bytes: get(H, p) }));

/** The hand-written part of the corpus. */
export const CASES: readonly Case[] = [
  ...valid,
  ...paths,
  ...methods,
  ...requestLine,
  ...fields,
  ...framing,
  ...chunks,
];

/** Valid requests the fuzzer mutates. */
export const SEEDS: readonly string[] = [
  get(`${H}Accept: */*\r\nUser-Agent: t\r\n`, '/a/b?c=d'),
  post('Content-Length: 5\r\n', 'hello'),
  post(`${CHUNKED}`, '5;e=1\r\nhello\r\n0\r\nT: 1\r\n\r\n'),
  'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
  get(H, 'http://a/x') + get(`${H}Connection: close\r\n`, '/2'),
  post(`Content-Length: 3\r\nConnection: close\r\n`, 'abc'),
  `OPTIONS * HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 1\r\n\r\nx`,
  post(`${CHUNKED}Connection: keep-alive, x-a\r\nX-A: 1\r\n`, '2\r\nhi\r\n0\r\n\r\n') + get(H),
  'POST / HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhiGET / HTTP/1.0\r\n\r\n',
  post(CHUNKED, '1;a="b"\r\nx\r\n0\r\nA: 1\r\nB: 2\r\n\r\n') + post('Content-Length: 1\r\n', 'y'),
];
