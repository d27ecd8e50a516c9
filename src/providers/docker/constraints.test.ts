import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileConstraints } from './constraints.ts';

const check = (expr: string, labels: Record<string, string>): boolean => {
  const c = compileConstraints(expr);
  if (typeof c !== 'function') throw new Error(c.error);
  return c(labels);
};

describe('docker constraints (Traefik expression language)', () => {
  it('matches labels exactly or by a regexp found in the value (as Traefik regexp.MatchString), with ! && || and parentheses', () => {
    const l = { team: 'payments', env: 'prod-eu' };
    assert.equal(check('', l), true);
    assert.equal(check('Label(`team`, `payments`)', l), true);
    assert.equal(check('Label("team", "billing")', l), false);
    assert.equal(check('LabelRegex(`env`, `prod-.*`)', l), true);
    assert.equal(check('LabelRegex(`env`, `prod`)', l), true, 'found anywhere in the value');
    assert.equal(check('LabelRegex(`env`, `^prod$`)', l), false, 'anchored: the whole value');
    assert.equal(check('!Label(`team`, `billing`) && LabelRegex(`env`, `.+-eu`)', l), true);
    assert.equal(check('Label(`a`, `1`) || Label(`team`, `payments`) && Label(`env`, `x`)', l), false);
    assert.equal(check('(Label(`a`, `1`) || Label(`team`, `payments`)) && !Label(`env`, `x`)', l), true);
    assert.equal(check('LabelRegex(`missing`, `.*`)', l), true, 'a missing label is ""');
    assert.equal(check('Label(`missing`, ``)', l), true);
    assert.equal(check('LabelRegex(`missing`, `.`)', l), false);
  });

  it('finds a TagRegex anywhere in a tag, as Traefik (constraints_tags.go)', () => {
    const c = compileConstraints('TagRegex(`web`) && !TagRegex(`^internal$`)', 'tags');
    assert.ok(typeof c === 'function');
    assert.equal(c({ 'traefik.enable=true': '', webapp: '' }), true);
    assert.equal(c({ webapp: '', internal: '' }), false);
  });

  it('says where an expression is wrong', () => {
    for (const [expr, msg] of [
      ['Label(`a`)', /expected `,` at offset 9/],
      ['Tag(`a`, `b`)', /unknown matcher `Tag`/],
      ['Label(`a`, `b`) &&', /expected Label, LabelRegex/],
      ['Label(`a, `b`)', /unterminated string/],
    ] as const) {
      const c = compileConstraints(expr);
      assert.ok(typeof c !== 'function', expr);
      assert.match(c.error, msg, expr);
    }
  });

  it('reads a regexp that does not compile as a matcher that is false, with a warning, as Traefik (labelRegexFn)', () => {
    const l = { env: 'prod' };
    for (const [expr, want] of [
      ['LabelRegex(`env`, `(`)', false],
      ['!LabelRegex(`env`, `(`)', true],
      ['LabelRegex(`env`, `(`) || Label(`env`, `prod`)', true],
    ] as const) {
      const warnings: string[] = [];
      const c = compileConstraints(expr, 'labels', warnings);
      assert.ok(typeof c === 'function', expr);
      assert.equal(c(l), want, expr);
      assert.equal(warnings.length, 1, expr);
      assert.match(warnings[0]!, /invalid regular expression "\(" at offset \d+: .*matches nothing/);
    }
    const tagWarnings: string[] = [];
    const t = compileConstraints('!TagRegex(`[`)', 'tags', tagWarnings);
    assert.ok(typeof t === 'function');
    assert.equal(t({ web: '' }), true);
    assert.equal(tagWarnings.length, 1);
  });
});
