import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectContentType } from './sniff.ts';

// Expected values are Go's http.DetectContentType results for the same bytes (net/http sniff tests).
const CASES: [string, Buffer | string, string][] = [
  ['empty', '', 'text/plain; charset=utf-8'],
  ['binary', Buffer.from([1, 2, 3]), 'application/octet-stream'],
  ['HTML document', '<!DOCTYPE HTML><html><body>x</body></html>', 'text/html; charset=utf-8'],
  ['HTML, lower case and leading space', '   <html>hello', 'text/html; charset=utf-8'],
  ['a tag needs its terminator', '<htmlx', 'text/plain; charset=utf-8'],
  ['HTML comment', '<!-- c -->', 'text/html; charset=utf-8'],
  ['XML', '\n<?xml version="1.0"?><a/>', 'text/xml; charset=utf-8'],
  ['JSON is text', '{"a":1}', 'text/plain; charset=utf-8'],
  ['PDF', '%PDF-1.7', 'application/pdf'],
  ['PostScript', '%!PS-Adobe-3.0', 'application/postscript'],
  ['UTF-16 BE BOM', Buffer.from([0xfe, 0xff, 0, 0x61]), 'text/plain; charset=utf-16be'],
  ['UTF-8 BOM', Buffer.from([0xef, 0xbb, 0xbf, 0x61]), 'text/plain; charset=utf-8'],
  ['PNG', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), 'image/png'],
  ['JPEG', Buffer.from([0xff, 0xd8, 0xff, 0xe0]), 'image/jpeg'],
  ['GIF', 'GIF89a....', 'image/gif'],
  ['WebP', 'RIFF\x00\x00\x00\x00WEBPVP8 ', 'image/webp'],
  ['WAVE', 'RIFF\x10\x00\x00\x00WAVEfmt ', 'audio/wave'],
  ['MP3 with ID3', 'ID3\x03\x00', 'audio/mpeg'],
  ['MP4', Buffer.from('\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom', 'latin1'), 'video/mp4'],
  ['WebM', Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 1]), 'video/webm'],
  ['WOFF2', 'wOF2\x00\x01', 'font/woff2'],
  ['gzip', Buffer.from([0x1f, 0x8b, 0x08, 0]), 'application/x-gzip'],
  ['zip', 'PK\x03\x04\x14', 'application/zip'],
  ['wasm', Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), 'application/wasm'],
];

describe('detectContentType', () => {
  for (const [name, body, want] of CASES) {
    it(`names ${name} ${want}`, () => {
      assert.equal(detectContentType(typeof body === 'string' ? Buffer.from(body, 'latin1') : body), want);
    });
  }

  it('reads only the first 512 bytes', () => {
    const text = Buffer.concat([Buffer.alloc(512, 0x61), Buffer.from([0, 1, 2])]);
    assert.equal(detectContentType(text), 'text/plain; charset=utf-8');
  });
});
