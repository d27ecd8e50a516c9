// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go replacement templates are written ${1} / ${name}
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileGoRegexp } from '../config/dynamic/middlewares.ts';
import { compileTemplate, replaceAllGo } from './go-replace.ts';

function replaceAll(regex: string, src: string, template: string): string | undefined {
  const rx = compileGoRegexp(regex, 'g');
  if ('error' in rx) throw new Error(rx.error);
  return replaceAllGo(rx.regexp, src, compileTemplate(template, rx.groupNames));
}

describe('Go ReplaceAllString semantics', () => {
  it('expands $1, ${1}, $name, ${name} and $$', () => {
    assert.equal(replaceAll('(?P<a>x)(y)', 'xy', '[$1|${2}|$a|${a}|$$]'), '[x|y|x|x|$]');
  });

  it('treats $1x as group "1x" (empty) and a malformed ${ as text', () => {
    assert.equal(replaceAll('(a)', 'a', '$1x-${1}x-${oops'), '-ax-${oops');
  });

  it('inserts nothing for groups that do not exist or did not participate', () => {
    assert.equal(replaceAll('(a)|(b)', 'b', '<$1$9$nope>'), '<>');
  });

  it('does not replace an empty match right after a match, as Go does', () => {
    assert.equal(replaceAll('x*', 'xab', '-'), '-a-b-');
    assert.equal(replaceAll('x*', 'abc', '-'), '-a-b-c-');
  });

  it('returns undefined when nothing matches', () => {
    assert.equal(replaceAll('z', 'abc', '-'), undefined);
  });
});
