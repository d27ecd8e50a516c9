import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GO_CASES } from './go-cases.ts';
import { compileRe2 } from './translate.ts';

function re(pattern: string): RegExp {
  const r = compileRe2(pattern);
  assert.ok(r.ok, r.ok ? '' : `${r.message} @${r.index}`);
  return r.regexp;
}

function rejects(pattern: string, message: RegExp, index?: number): void {
  const r = compileRe2(pattern);
  assert.ok(!r.ok, `expected ${pattern} to be rejected`);
  assert.match(r.message, message);
  if (index !== undefined) assert.equal(r.index, index);
}

describe('compileRe2 translation of Go RE2', () => {
  it('matches unanchored unless the pattern anchors', () => {
    assert.ok(re('css').test('/static/css/x'));
    assert.ok(!re('^css').test('/static/css/x'));
    assert.ok(re('^/(css|js)').test('/js/app.js'));
    assert.ok(!re('^/(css|js)$').test('/js/app.js'));
  });

  it('turns a leading (?i) into case-insensitive matching', () => {
    const r = re('(?i)^/API$');
    assert.ok(r.test('/api'));
    assert.ok(r.test('/Api'));
  });

  it('keeps a mid-pattern (?i) to the end of its group, across |', () => {
    const r = re('a(?i)b|c');
    // Go: (a(?i:b)) | (?i:c)
    assert.ok(r.test('aB'));
    assert.ok(!r.test('AB'));
    assert.ok(r.test('C'));
    const g = re('^(x(?i)y)z$');
    assert.ok(g.test('xYz'));
    assert.ok(!g.test('xYZ'));
  });

  it('supports (?i:...) groups and turning flags off', () => {
    assert.ok(re('^(?i:ab)c$').test('ABc'));
    assert.ok(!re('^(?i:ab)c$').test('ABC'));
    assert.ok(!re('(?i)^a(?-i:b)$').test('AB'));
    assert.ok(re('(?i)^a(?-i:b)$').test('Ab'));
  });

  it('uses simple case folding under (?i), as Go does', () => {
    assert.ok(re('(?i)k').test('\u212a'));
  });

  it('makes . stop only at \\n, and (?s) match it too', () => {
    assert.ok(re('^a.b$').test('a\rb'));
    assert.ok(re('^a.b$').test('a\u2028b'));
    assert.ok(!re('^a.b$').test('a\nb'));
    assert.ok(re('(?s)^a.b$').test('a\nb'));
  });

  it('matches . against a whole code point', () => {
    assert.ok(re('^.$').test('é'));
    assert.ok(re('^.$').test('😀'));
  });

  it('anchors (?m) lines at \\n only', () => {
    const r = re('(?m)^b$');
    assert.ok(r.test('a\nb\nc'));
    assert.ok(!r.test('a\rb'));
    assert.ok(!re('^b$').test('a\nb'));
  });

  it('reads \\s as ASCII space like Go', () => {
    assert.ok(re('^\\s$').test(' '));
    assert.ok(!re('^\\s$').test('\v'));
    assert.ok(!re('^\\s$').test('\u00a0'));
    assert.ok(re('^\\S$').test('\v'));
    assert.ok(re('^[\\S]$').test('\u00a0'));
    assert.ok(!re('^[\\S]$').test('\t'));
  });

  it('translates \\A, \\z, \\Q..\\E, \\a, octal and \\x{..}', () => {
    assert.ok(re('\\Aab').test('abc'));
    assert.ok(!re('\\Ab').test('ab'));
    assert.ok(re('b\\z').test('ab'));
    assert.ok(re('^\\Qa.b*\\E$').test('a.b*'));
    assert.ok(!re('^\\Qa.b*\\E$').test('axbb'));
    assert.ok(re('^\\a$').test('\x07'));
    assert.ok(re('^\\101\\0$').test('A\0'));
    assert.ok(re('^\\x41\\x{1F600}$').test('A😀'));
  });

  it('translates POSIX classes and keeps a leading ] literal', () => {
    assert.ok(re('^[[:alpha:]]+$').test('abcXYZ'));
    assert.ok(!re('^[[:alpha:]]+$').test('abc1'));
    assert.ok(re('^[[:^digit:]]$').test('x'));
    assert.ok(re('^[]a]+$').test(']a]'));
    assert.ok(re('^[^]a]$').test('b'));
    assert.ok(re('^[a-]$').test('-'));
    assert.ok(re('^[\\d-z]+$').test('1-z'));
  });

  it('supports Unicode classes', () => {
    assert.ok(re('^\\pL+$').test('héllo'));
    assert.ok(re('^\\p{Greek}$').test('α'));
    assert.ok(!re('^\\P{Greek}$').test('α'));
    assert.ok(re('^[\\p{Lu}]$').test('É'));
  });

  it('reads a { that does not start a repeat as a literal', () => {
    assert.ok(re('^a{,3}$').test('a{,3}'));
    assert.ok(re('^a{2}$').test('aa'));
    assert.ok(re('^x{1}y$').test('xy'));
    assert.ok(re('^\\{path\\}$').test('{path}'));
    assert.ok(re('^/{path:(css|js)}$').test('/{path:css}'));
  });

  it('drops captures but still accepts named groups', () => {
    assert.ok(re('^(?P<a>x)(?<b>y)$').test('xy'));
    assert.equal(re('^(a)(b)$').exec('ab')?.length, 1);
  });

  it('keeps captures when asked, numbered as Go numbers them, with their names beside', () => {
    const r = compileRe2('^/(?P<user>\\w+)/(?:x|(y))(?i)(?P<1st>z)$', { captures: true, flags: 'g' });
    assert.ok(r.ok);
    assert.deepEqual(r.groupNames, [undefined, 'user', undefined, '1st']);
    assert.deepEqual([...(r.regexp.exec('/bob/yZ') ?? [])], ['/bob/yZ', 'bob', 'y', 'Z']);
    assert.ok(r.regexp.global);
  });
});

describe('compileRe2 against Go semantics', () => {
  for (const [pattern, input, expected] of GO_CASES) {
    it(`${JSON.stringify(pattern)} on ${JSON.stringify(input)} finds ${JSON.stringify(expected)}`, () => {
      const found = re(pattern).exec(input);
      assert.equal(found === null ? null : found[0], expected);
    });
  }
});

describe('compileRe2 refusals', () => {
  it('refuses lookarounds and backreferences, which RE2 lacks, with a clear message', () => {
    rejects('a(?=b)', /lookahead/, 1);
    rejects('(?<!a)b', /lookahead/, 0);
    rejects('(a)\\1', /backreferences/, 3);
    rejects('(?P=n)', /backreferences/);
  });

  it('refuses repeat counts over 1000, as RE2 does', () => {
    rejects('a{1001}', /repeat count/, 1);
    rejects('a{2,1}', /repeat count/);
    assert.ok(compileRe2('a{1000}').ok);
  });

  it('refuses escapes that Go does not know', () => {
    rejects('\\e', /invalid escape/);
    rejects('\\Z', /invalid escape/);
    rejects('[\\b]', /invalid escape/);
    rejects('a\\', /trailing backslash/);
  });

  it('refuses malformed groups and classes with the position', () => {
    rejects('x(a', /missing closing "\)"/, 1);
    rejects('a)', /unexpected "\)"/, 1);
    rejects('[a', /missing closing "]"/, 0);
    rejects('[z-a]', /invalid character class range/, 1);
    rejects('[[:foo:]]', /invalid character class/);
    // Go accepts a capture name twice (go-errors.test.ts).
    assert.ok(compileRe2('(?P<a>x)(?P<a>y)').ok);
    rejects('(?x)a', /invalid or unsupported/);
  });

  it("refuses what Go refuses, in Go's words where JS has none of its own", () => {
    rejects('a**', /^error parsing regexp: invalid nested repetition operator: `\*\*`$/);
    rejects('\\p{NoSuchScript}', /invalid/);
    // JS would read this one; Go's nested repeats exceed 1000 copies.
    rejects('(x{2}){501}', /^error parsing regexp: invalid repeat count: `\{501\}`$/);
  });

  it('repeats an assertion as Go does (JS wants it in a group)', () => {
    assert.ok(re('^*a').test('a'));
    assert.ok(re('x\\b+').test('x y'));
    assert.ok(!re('x\\b+').test('xy'));
    assert.ok(re('(?m)^?b').test('ab'));
  });

  it('repeats what comes before a flag group (Go pushes nothing for `(?i)`), under the new flags', () => {
    const r = re('^x,(?i)+a$');
    assert.ok(r.test('x,,A'));
    assert.ok(!r.test('X,,A'));
    assert.ok(re('^\\A(?U)?x').test('x'));
    // (?U) makes the repeat that follows it lazy.
    assert.equal(re('a(?U)+').exec('aaa')?.[0], 'a');
    // A repeat of a repeat across a flag group: Go's (?:a*)+.
    assert.equal(re('^a*(?i)+b').exec('aaB')?.[0], 'aaB');
    assert.equal(re('(ab){2}(?i)?c').exec('ababC')?.[0], 'ababC');
    assert.equal(re('x\\Qyz\\E(?i)+').exec('xyzz')?.[0], 'xyzz');
  });
});
