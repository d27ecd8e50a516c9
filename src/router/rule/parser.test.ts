import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RuleAst } from './ast.ts';
import { parseRule } from './parser.ts';

/** Compact rendering of an AST: and/or as nested lists, matchers as Name(args). */
function show(ast: RuleAst): string {
  switch (ast.type) {
    case 'matcher':
      return `${ast.name}(${ast.args.map((a) => a.value).join(',')})`;
    case 'not':
      return `!${show(ast.operand)}`;
    default:
      return `${ast.type}[${ast.children.map(show).join(' ')}]`;
  }
}

function parsed(rule: string): string {
  const r = parseRule(rule);
  assert.ok(r.ok, r.ok ? '' : `${r.error.message} @${r.error.offset}`);
  return show(r.ast);
}

function error(rule: string): { message: string; offset: number } {
  const r = parseRule(rule);
  assert.ok(!r.ok, `expected an error for ${rule}`);
  return r.error;
}

describe('parseRule grammar', () => {
  it('parses a single matcher', () => {
    assert.equal(parsed('Host(`example.com`)'), 'Host(example.com)');
  });

  it('binds && tighter than ||', () => {
    assert.equal(parsed('Host(`a`) || Host(`b`) && Path(`/x`)'), 'or[Host(a) and[Host(b) Path(/x)]]');
    assert.equal(parsed('Host(`a`) && Host(`b`) || Path(`/x`)'), 'or[and[Host(a) Host(b)] Path(/x)]');
  });

  it('flattens chains of the same operator', () => {
    assert.equal(parsed('Method(`A`) && Method(`B`) && Method(`C`)'), 'and[Method(A) Method(B) Method(C)]');
  });

  it('lets parentheses override precedence', () => {
    assert.equal(parsed('(Host(`a`) || Host(`b`)) && Path(`/x`)'), 'and[or[Host(a) Host(b)] Path(/x)]');
  });

  it('applies ! to the next unary only', () => {
    assert.equal(parsed('!Host(`a`) && Path(`/x`)'), 'and[!Host(a) Path(/x)]');
    assert.equal(parsed('!(Host(`a`) && Path(`/x`))'), '!and[Host(a) Path(/x)]');
    assert.equal(parsed('!!Method(`GET`)'), '!!Method(GET)');
  });

  it('accepts whitespace, tabs and newlines between tokens where Go inserts no semicolon', () => {
    assert.equal(parsed(' \tHost( `a` ) &&\r\n Path(`/`) \n'), 'and[Host(a) Path(/)]');
    assert.equal(parsed('(\nHost(\n`a`,\n) ||\n!\nPath(`/`))\n\n'), 'or[Host(a) !Path(/)]');
    assert.equal(parsed('Host(`a\nb`)'), 'Host(a\nb)');
  });

  it("rejects a line break after an identifier, a string or ')' before more of the rule, as Go's scanner inserts a semicolon there", () => {
    assert.equal(error('Host(`a`)\n&& Path(`/`)').offset, 9);
    assert.equal(error('Host(`a`\n)').offset, 8);
    assert.equal(error('Host\n(`a`)').offset, 4);
    assert.match(error('Host(`a`)\n|| Path(`/`)').message, /semicolon/);
  });

  it("skips Go's comments as go/scanner does (Traefik accepts them), a general one over lines acting as a line break", () => {
    assert.equal(parsed('Host(`a`) /* www */'), 'Host(a)');
    assert.equal(parsed('Host(`a`) // www'), 'Host(a)');
    assert.equal(parsed('/* a */ Host(`a`)/**/'), 'Host(a)');
    assert.equal(parsed('Host(`a`) && /* x */ Path(`/`)'), 'and[Host(a) Path(/)]');
    assert.equal(parsed('Host(`a`) && // x\n Path(`/`)'), 'and[Host(a) Path(/)]');
    assert.equal(parsed('Host(`a`) // x\n// y'), 'Host(a)');
    assert.equal(parsed('Host(`a`) /* x\n */'), 'Host(a)');
    // Go 1.19's go/parser refuses these (2:5: expected 'EOF', found '&&'; 2:1: …; 1:11: comment
    // not terminated).
    assert.match(error('Host(`a`) /* x\n */ && Path(`/`)').message, /semicolon/);
    assert.match(error('Host(`a`) // x\n&& Path(`/`)').message, /semicolon/);
    assert.deepEqual(error('Host(`a`) /* x'), { message: 'comment not terminated', offset: 10 });
  });

  it('reads backtick strings raw', () => {
    assert.equal(parsed('PathRegexp(`^/a\\d+$`)'), 'PathRegexp(^/a\\d+$)');
  });

  it('reads double-quoted strings with Go escapes', () => {
    const r = parseRule('Header("X-A", "q\\"\\\\\\t\\x41\\101\\u00e9\\U0001F600")');
    assert.ok(r.ok && r.ast.type === 'matcher');
    assert.equal(r.ast.args[1]!.value, 'q"\\\tAAé😀');
    assert.equal(r.ast.args[1]!.raw, false);
  });

  it('decodes \\x byte escapes as UTF-8', () => {
    const r = parseRule('Path("/caf\\xc3\\xa9")');
    assert.ok(r.ok && r.ast.type === 'matcher');
    assert.equal(r.ast.args[0]!.value, '/café');
  });

  it('accepts the matcher spellings Traefik registers', () => {
    for (const name of ['PathPrefix', 'pathprefix', 'PATHPREFIX', 'Pathprefix']) {
      assert.equal(parsed(`${name}(\`/a\`)`), 'PathPrefix(/a)');
    }
  });

  it('accepts a trailing comma in the arguments, as Go does', () => {
    assert.equal(parsed('Header(`a`, `b`,)'), 'Header(a,b)');
  });

  it('records argument offsets at the opening quote', () => {
    const r = parseRule('Header(`X-A`, "b")');
    assert.ok(r.ok && r.ast.type === 'matcher');
    assert.deepEqual(
      r.ast.args.map((a) => [a.offset, a.raw]),
      [
        [7, true],
        [14, false],
      ],
    );
  });
});

describe('parseRule errors', () => {
  it('rejects an empty rule at offset 0', () => {
    assert.deepEqual(error(''), { message: 'empty rule', offset: 0 });
    assert.deepEqual(error('   '), { message: 'empty rule', offset: 0 });
  });

  it('rejects single quotes at the quote', () => {
    const e = error("Host('a')");
    assert.equal(e.offset, 5);
    assert.match(e.message, /single-quoted/);
  });

  it('reports an unknown matcher at its name', () => {
    const e = error('Host(`a`) && Foo(`b`)');
    assert.equal(e.offset, 13);
    assert.match(e.message, /unknown matcher "Foo"/);
  });

  it('points v2 names to their v3 replacement', () => {
    assert.match(error('Headers(`a`, `b`)').message, /use Header/);
    assert.match(error('HostHeader(`a`)').message, /use Host/);
  });

  it('reports an unclosed parenthesis at the parenthesis', () => {
    const e = error('Host(`a`) && (Path(`/`) || Path(`/b`)');
    assert.equal(e.offset, 13);
    assert.match(e.message, /never closed/);
  });

  it('reports a stray closing parenthesis', () => {
    const e = error('Host(`a`))');
    assert.equal(e.offset, 9);
    assert.match(e.message, /unbalanced parenthesis/);
  });

  it('reports an unclosed matcher call', () => {
    assert.equal(error('Host(`a`').offset, 4);
  });

  it('reports trailing garbage', () => {
    const e = error('Host(`a`) Path(`/`)');
    assert.equal(e.offset, 10);
    assert.match(e.message, /expected "&&", "\|\|"/);
  });

  it('reports a lone & or |', () => {
    assert.deepEqual(error('Host(`a`) & Path(`/`)'), { message: 'expected "&&"', offset: 10 });
    assert.deepEqual(error('Host(`a`) | Path(`/`)'), { message: 'expected "||"', offset: 10 });
  });

  it('reports a dangling operator at the end', () => {
    const e = error('Host(`a`) &&');
    assert.equal(e.offset, 12);
    assert.match(e.message, /unexpected end of rule/);
  });

  it('reports too many arguments at the first extra one', () => {
    const e = error('Host(`a`, `b`)');
    assert.equal(e.offset, 10);
    assert.match(e.message, /Host expects 1 argument, got 2/);
    assert.match(e.message, /\|\|/);
  });

  it('reports too few arguments at the closing parenthesis', () => {
    const e = error('Header(`X-A`)');
    assert.equal(e.offset, 12);
    assert.match(e.message, /Header expects 2 arguments, got 1/);
    assert.equal(error('Host()').offset, 5);
  });

  it('accepts one or two arguments for Query and QueryRegexp only', () => {
    assert.equal(parsed('Query(`a`)'), 'Query(a)');
    assert.equal(parsed('QueryRegexp(`a`)'), 'QueryRegexp(a)');
    assert.match(error('Query(`a`, `b`, `c`)').message, /expects 1 or 2 arguments, got 3/);
  });

  it('rejects an empty argument at that argument', () => {
    const e = error('Header(`X-A`, ``)');
    assert.equal(e.offset, 14);
    assert.match(e.message, /argument 2 is empty/);
  });

  it('rejects unquoted arguments', () => {
    const e = error('Host(example)');
    assert.equal(e.offset, 5);
    assert.match(e.message, /quoted string/);
  });

  it('rejects a matcher name without a call', () => {
    assert.equal(error('Host && Path(`/`)').offset, 5);
  });

  it('rejects a bare string', () => {
    assert.equal(error('`a`').offset, 0);
  });

  it('rejects unterminated strings at the opening quote', () => {
    assert.deepEqual(error('Host(`a)'), { message: 'unterminated backtick string', offset: 5 });
    assert.deepEqual(error('Host("a)'), { message: 'unterminated double-quoted string', offset: 5 });
  });

  it('rejects bad escapes in double quotes at the backslash', () => {
    assert.equal(error('Host("a\\qb")').offset, 7);
    assert.equal(error('Host("\\x4")').offset, 6);
    assert.equal(error('Host("\\400")').offset, 6);
    assert.equal(error('Host("\\uD800")').offset, 6);
    assert.match(error('Host("\\xff")').message, /UTF-8/);
  });

  it('rejects a newline inside double quotes', () => {
    assert.equal(error('Host("a\nb")').offset, 7);
  });

  it('rejects unexpected characters', () => {
    assert.deepEqual(error('Host(`a`) && #'), { message: 'unexpected character "#"', offset: 13 });
  });

  it('refuses absurd nesting instead of overflowing the stack', () => {
    const rule = `${'('.repeat(10_000)}Host(\`a\`)${')'.repeat(10_000)}`;
    assert.match(error(rule).message, /nested too deeply/);
    assert.match(error(`${'!'.repeat(10_000)}Host(\`a\`)`).message, /nested too deeply/);
  });
});
