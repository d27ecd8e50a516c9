import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goQuote, readGoQuoted } from './go-string.ts';

describe("goQuote: Go's strconv.Quote", () => {
  it('escapes as Go does (outputs of Go 1.19 strconv.Quote)', () => {
    const cases: [string, string][] = [
      ['a"b\\c', '"a\\"b\\\\c"'],
      ['\x07\b\f\n\r\t\v', '"\\a\\b\\f\\n\\r\\t\\v"'],
      ['\x00\x1b\x7f', '"\\x00\\x1b\\x7f"'],
      ['héllo ✓ 日本', '"héllo ✓ 日本"'],
      // Not printable beyond ASCII: a soft hyphen (Cf), NBSP (Zs), a line separator, a tag.
      ['a\u00adb', '"a\\u00adb"'],
      ['\u00a0', '"\\u00a0"'],
      ['\u2028', '"\\u2028"'],
      ['\u{e0001}', '"\\U000e0001"'],
    ];
    for (const [input, want] of cases) assert.equal(goQuote(input), want, JSON.stringify(input));
  });

  it('reads back what it writes', () => {
    for (const s of ['plain', 'a"b', '\x00\x7f', 'a\u00adb', '\u{e0001}x', '\t日本']) {
      const q = goQuote(s);
      const r = readGoQuoted(q, 0);
      assert.ok(r.ok, q);
      assert.equal(r.value, s);
      assert.equal(r.end, q.length);
    }
  });
});
