import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goCanonicalName, goUnicodeProperty } from './go-unicode.ts';

// Go 1.25's regexp/syntax unicodeTable and canonicalName (parse.go), read from its source: Go 1.19,
// the toolchain here, predates them.
describe("Go 1.25's Unicode class names", () => {
  it('canonicalises as canonicalName: first byte upper, the rest lower, no _ - or space', () => {
    assert.equal(goCanonicalName('Old_Italic'), 'Olditalic');
    assert.equal(goCanonicalName('decimal-number'), 'Decimalnumber');
    assert.equal(goCanonicalName('GREEK'), 'Greek');
    assert.equal(goCanonicalName('l'), 'L');
    assert.equal(goCanonicalName('_lu'), 'Lu');
  });

  it('finds the specials, the categories, the one-word scripts and the long category names', () => {
    const cases: [string, string][] = [
      ['Any', 'Any'],
      ['assigned', 'Assigned'],
      ['ASCII', 'ASCII'],
      ['LC', 'LC'],
      ['lc', 'LC'],
      ['Cn', 'Cn'],
      ['L', 'L'],
      ['l', 'L'],
      ['lu', 'Lu'],
      ['Greek', 'Script=Greek'],
      ['greek', 'Script=Greek'],
      ['Nko', 'Script=Nko'],
      ['Kawi', 'Script=Kawi'],
      ['Letter', 'L'],
      ['uppercase letter', 'Lu'],
      ['Decimal_Number', 'Nd'],
      ['digit', 'Nd'],
      ['punct', 'P'],
      ['Cased_Letter', 'LC'],
      ['Combining_Mark', 'M'],
      ['Unassigned', 'Cn'],
    ];
    for (const [name, js] of cases) assert.equal(goUnicodeProperty(name), js, name);
  });

  it('misses what Go misses: scripts of several words, four-letter codes, binary properties', () => {
    for (const name of [
      'Old_Italic',
      'Canadian_Aboriginal',
      'SignWriting',
      'Grek',
      'Alphabetic',
      'Emoji',
      '',
      'L&',
    ])
      assert.equal(goUnicodeProperty(name), undefined, name);
  });
});
