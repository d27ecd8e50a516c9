import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goRegexpError, goRegexpErrorText } from './go-errors.ts';
import { compileRe2 } from './translate.ts';

/**
 * [pattern, Go's regexp.Compile error ('' when Go accepts it)]. The first rows are Go's own
 * invalidRegexps and onlyPOSIX lists (src/regexp/syntax/parse_test.go, under the Perl flags
 * regexp.Compile uses); the rest are the forms people write for other engines (lookarounds,
 * backreferences, possessive and stacked repeats, atomic groups) and what Go accepts that JS reads
 * otherwise. The texts are what Go 1.19's regexp.Compile printed for each row, except `(?<`:
 * Go 1.22 and later (Traefik v3's builds) read `(?<name>` as a named capture
 * (parsePerlFlags' startsWithName), so a lookbehind is an `invalid named capture` there, where
 * Go 1.19 said `invalid or unsupported Perl syntax: `(?<``.
 */
const CASES: readonly [string, string][] = [
  ['(', 'error parsing regexp: missing closing ): `(`'],
  [')', 'error parsing regexp: unexpected ): `)`'],
  ['(a', 'error parsing regexp: missing closing ): `(a`'],
  ['a)', 'error parsing regexp: unexpected ): `a)`'],
  ['(a))', 'error parsing regexp: unexpected ): `(a))`'],
  ['(a|b|', 'error parsing regexp: missing closing ): `(a|b|`'],
  ['a|b|)', 'error parsing regexp: unexpected ): `a|b|)`'],
  ['(a|b|))', 'error parsing regexp: unexpected ): `(a|b|))`'],
  ['(a|b', 'error parsing regexp: missing closing ): `(a|b`'],
  ['a|b)', 'error parsing regexp: unexpected ): `a|b)`'],
  ['(a|b))', 'error parsing regexp: unexpected ): `(a|b))`'],
  ['[a-z', 'error parsing regexp: missing closing ]: `[a-z`'],
  ['([a-z)', 'error parsing regexp: missing closing ]: `[a-z)`'],
  ['[a-z)', 'error parsing regexp: missing closing ]: `[a-z)`'],
  ['([a-z]))', 'error parsing regexp: unexpected ): `([a-z]))`'],
  ['x{1001}', 'error parsing regexp: invalid repeat count: `{1001}`'],
  ['x{9876543210}', 'error parsing regexp: invalid repeat count: `{9876543210}`'],
  ['x{2,1}', 'error parsing regexp: invalid repeat count: `{2,1}`'],
  ['x{1,9876543210}', 'error parsing regexp: invalid repeat count: `{1,9876543210}`'],
  ['(?P<name>a', 'error parsing regexp: missing closing ): `(?P<name>a`'],
  ['(?P<name>', 'error parsing regexp: missing closing ): `(?P<name>`'],
  ['(?P<name', 'error parsing regexp: invalid named capture: `(?P<name`'],
  ['(?P<x y>a)', 'error parsing regexp: invalid named capture: `(?P<x y>`'],
  ['(?P<>a)', 'error parsing regexp: invalid named capture: `(?P<>`'],
  ['[a-Z]', 'error parsing regexp: invalid character class range: `a-Z`'],
  ['(?i)[a-Z]', 'error parsing regexp: invalid character class range: `a-Z`'],
  ['\\Q\\E*', 'error parsing regexp: missing argument to repetition operator: `*`'],
  ['a{100000}', 'error parsing regexp: invalid repeat count: `{100000}`'],
  ['a{100000,}', 'error parsing regexp: invalid repeat count: `{100000,}`'],
  [
    '((((((((((x{2}){2}){2}){2}){2}){2}){2}){2}){2}){2})',
    'error parsing regexp: invalid repeat count: `{2}`',
  ],
  ['a**', 'error parsing regexp: invalid nested repetition operator: `**`'],
  ['a++', 'error parsing regexp: invalid nested repetition operator: `++`'],
  ['a?*', 'error parsing regexp: invalid nested repetition operator: `?*`'],
  ['a+*', 'error parsing regexp: invalid nested repetition operator: `+*`'],
  ['a{1}*', 'error parsing regexp: invalid nested repetition operator: `{1}*`'],
  ['.{1}{2}.{3}', 'error parsing regexp: invalid nested repetition operator: `{1}{2}`'],
  ['*a', 'error parsing regexp: missing argument to repetition operator: `*`'],
  ['+', 'error parsing regexp: missing argument to repetition operator: `+`'],
  ['?', 'error parsing regexp: missing argument to repetition operator: `?`'],
  ['a|*', 'error parsing regexp: missing argument to repetition operator: `*`'],
  ['(*)', 'error parsing regexp: missing argument to repetition operator: `*`'],
  ['(?i)*', 'error parsing regexp: missing argument to repetition operator: `*`'],
  ['^*', ''],
  ['$+', ''],
  ['\\b*', ''],
  ['a*+', 'error parsing regexp: invalid nested repetition operator: `*+`'],
  ['a*?*', 'error parsing regexp: invalid nested repetition operator: `*?*`'],
  ['a{2}{3}', 'error parsing regexp: invalid nested repetition operator: `{2}{3}`'],
  ['(?=a)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`'],
  ['(?!a)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?!`'],
  ['(?<=a)b', 'error parsing regexp: invalid named capture: `(?<=a)b`'],
  ['(?<!a)b', 'error parsing regexp: invalid named capture: `(?<!a)b`'],
  ['(?<!x)>', 'error parsing regexp: invalid named capture: `(?<!x)>`'],
  ['(?>a)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?>`'],
  ['(?P=name)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?P`'],
  ['(?P>name)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?P`'],
  ["(?'n'x)", "error parsing regexp: invalid or unsupported Perl syntax: `(?'`"],
  ['(?', 'error parsing regexp: invalid or unsupported Perl syntax: `(?`'],
  ['(?i', 'error parsing regexp: invalid or unsupported Perl syntax: `(?i`'],
  ['(?-)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?-)`'],
  ['(?i-)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?i-)`'],
  ['(?--i)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?--`'],
  ['(?x)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?x`'],
  ['(?i)abc', ''],
  ['(?i:a)b', ''],
  ['(?P<n>a)(?P<n>b)', ''],
  ['\\1', 'error parsing regexp: invalid escape sequence: `\\1`'],
  ['\\8', 'error parsing regexp: invalid escape sequence: `\\8`'],
  ['\\C', 'error parsing regexp: invalid escape sequence: `\\C`'],
  ['\\Z', 'error parsing regexp: invalid escape sequence: `\\Z`'],
  ['\\', 'error parsing regexp: trailing backslash at end of expression: ``'],
  ['a\\', 'error parsing regexp: trailing backslash at end of expression: ``'],
  ['\\x', 'error parsing regexp: invalid escape sequence: `\\x`'],
  ['\\xg1', 'error parsing regexp: invalid escape sequence: `\\xg1`'],
  ['\\x{}', 'error parsing regexp: invalid escape sequence: `\\x{}`'],
  ['\\x{110000}', 'error parsing regexp: invalid escape sequence: `\\x{110000`'],
  ['\\x{41', 'error parsing regexp: invalid escape sequence: `\\x{41`'],
  ['\\pX', 'error parsing regexp: invalid character class range: `\\pX`'],
  ['\\p{Foo}', 'error parsing regexp: invalid character class range: `\\p{Foo}`'],
  ['\\p{Greek', 'error parsing regexp: invalid character class range: `\\p{Greek`'],
  // Go 1.25's canonical lookup misses the scripts of several words.
  ['\\p{Old_Italic}', 'error parsing regexp: invalid character class range: `\\p{Old_Italic}`'],
  ['\\p', 'error parsing regexp: invalid character class range: `\\p`'],
  ['[\\p{Foo}]', 'error parsing regexp: invalid character class range: `\\p{Foo}`'],
  ['[[:foo:]]', 'error parsing regexp: invalid character class range: `[:foo:]`'],
  ['[[:alpha:]', 'error parsing regexp: missing closing ]: `[[:alpha:]`'],
  ['[\\b]', 'error parsing regexp: invalid escape sequence: `\\b`'],
  ['[\\A]', 'error parsing regexp: invalid escape sequence: `\\A`'],
  ['[z-a]', 'error parsing regexp: invalid character class range: `z-a`'],
  ['[\\d-z]', ''],
  ['[a', 'error parsing regexp: missing closing ]: `[a`'],
  ['[]', 'error parsing regexp: missing closing ]: `[]`'],
  ['[]a]', ''],
  ['[^]a]', ''],
  ['\\z', ''],
  ['\\A', ''],
  ['\\Q.*\\E', ''],
  ['x{,2}', ''],
  ['x{0}', ''],
  ['x{02}', ''],
  ['(x{1000}){0}', ''],
  ['(x{2}){501}', 'error parsing regexp: invalid repeat count: `{501}`'],
  ['(x{10}){100}', ''],
  ['(x{10}){101}', 'error parsing regexp: invalid repeat count: `{101}`'],
  ['\\pL', ''],
  ['\\p{^Greek}', ''],
  ['\\P{L}', ''],
  ['[[:^digit:]]', ''],
  ['\\d\\D\\w\\W\\s\\S', ''],
  ['(?U)a+', ''],
  ['(?sm)^.$', ''],
  ['abc)def', 'error parsing regexp: unexpected ): `abc)def`'],
  ['(?<name>x)', ''],
  ['(?<1st>x)', ''],
];

describe("Go's regexp/syntax errors (go-errors.ts)", () => {
  for (const [pattern, want] of CASES) {
    it(`${JSON.stringify(pattern)}: ${want === '' ? 'accepted' : want}`, () => {
      const e = goRegexpError(pattern);
      assert.equal(e === undefined ? '' : goRegexpErrorText(e), want);
      const r = compileRe2(pattern);
      // compileRe2 refuses exactly what Go refuses, and carries Go's text.
      assert.equal(r.ok, want === '', r.ok ? '' : r.message);
      if (!r.ok) assert.equal(r.go, want);
    });
  }
});
