/**
 * Go's documented semantics (pkg.go.dev/regexp/syntax), case by case: [pattern, input, what Go's
 * FindString returns, or null for no match]. Each row is a place where a naive JS reading differs.
 */
export const GO_CASES: readonly [string, string, string | null][] = [
  // `.` matches any character but \n unless (?s); \r and U+2028 are ordinary characters.
  ['a.c', 'a\rc', 'a\rc'],
  ['a.c', 'a\u2028c', 'a\u2028c'],
  ['a.c', 'a\nc', null],
  ['(?s)a.c', 'a\nc', 'a\nc'],
  ['(?s:a.)c', 'a\nc', 'a\nc'],
  // (?m): ^ and $ at line starts and ends, where a line ends at \n only.
  ['(?m)^b$', 'a\nb\nc', 'b'],
  ['(?m)^b', 'a\rb', null],
  ['(?m)a$', 'a\r\n', null],
  ['^b', 'a\nb', null],
  ['a$', 'a\n', null],
  // \A and \z: start and end of text, even under (?m).
  ['(?m)\\Ab', 'a\nb', null],
  ['(?m)a\\z', 'a\nb', null],
  ['(?m)b\\z', 'a\nb', 'b'],
  // (?i): simple case folding, also mid-pattern up to the end of the group.
  ['(?i)straße', 'STRAßE', 'STRAßE'],
  ['a(?i)b', 'aB', 'aB'],
  ['a(?i)b', 'AB', null],
  ['(?i)k', '\u212a', '\u212a'],
  // (?U): ungreedy, and `?` after a repeat makes it greedy again.
  ['(?U)a+', 'aaa', 'a'],
  ['(?U)a+?', 'aaa', 'aaa'],
  ['(?U:a{1,3})a', 'aaaa', 'aa'],
  ['a(?U)b*|c+', 'ccc', 'c'],
  ['a+?', 'aaa', 'a'],
  // \Q…\E quotes, POSIX classes (ASCII), \pL and scripts (Unicode), \s (ASCII).
  ['\\Q.*\\E', 'x.*y', '.*'],
  ['[[:alpha:]]+', 'é ab1', 'ab'],
  ['[[:^digit:]]+', '12ab3', 'ab'],
  ['\\pL+', '1été2', 'été'],
  ['\\p{Greek}+', 'abγδ', 'γδ'],
  ['\\PL+', 'ab12', '12'],
  ['\\s', '\u00a0\v ', ' '],
  ['\\w+', 'été_1', 't'],
  ['\\d+', '٣12', '12'],
  // Leftmost-first alternation (Perl semantics, as Go's regexp without Longest).
  ['a|ab', 'ab', 'a'],
  // A `{` that starts no repeat is a literal.
  ['a{,2}', 'a{,2}', 'a{,2}'],
];
