import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseYamlOffThread } from './yaml-offload.ts';
import { OFFLOAD_MIN_CHARS, parseYaml, parseYamlHere } from './yaml-source.ts';

const text = [
  'http:', // 1
  '  routers:', // 2
  '    api:', // 3
  '      rule: Host(`a`) && Bad(`x`)', // 4
  "      single: 'it''s Bad'", // 5
  '      double: "a\\tBad"', // 6
  '      block: >', // 7
  '        Host(`a`) Bad', // 8
  '      list: [a, b]', // 9
  '      empty:', // 10
  '',
].join('\n');

describe('parseYaml', () => {
  it('returns plain data for valid YAML', () => {
    const src = parseYaml(text, 'f.yaml');
    assert.deepEqual(src.issues, []);
    assert.equal(
      (src.data as { http: { routers: { api: { rule: string } } } }).http.routers.api.rule,
      'Host(`a`) && Bad(`x`)',
    );
  });

  it('reads !!binary as Go yaml.v3 does, the decoded bytes as text (found by fuzzing: a Buffer broke copies)', () => {
    const ok = parseYaml('a: !!binary aGVsbG8=\nb: !!binary\nc: !!binary |\n  aGVs\n  bG8=\n', 'b.yaml');
    assert.deepEqual(ok.issues, []);
    assert.deepEqual(ok.data, { a: 'hello', b: '', c: 'hello' });
    assert.doesNotThrow(() => structuredClone(ok.data));
    const bad = parseYaml('a: !!binary not*base64\n', 'b.yaml');
    assert.equal(bad.data, undefined);
    assert.match(bad.issues[0]?.message ?? '', /invalid base64/);
    assert.equal(bad.issues[0]?.line, 1);
  });

  it('reports a syntax error with its position and no data', () => {
    const src = parseYaml('a: 1\nb: [1,\n', 'bad.yaml');
    assert.equal(src.data, undefined);
    assert.equal(src.issues.length, 1);
    assert.equal(src.issues[0]?.file, 'bad.yaml');
    assert.equal(src.issues[0]?.line, 3);
    assert.match(src.issues[0]?.message ?? '', /YAML syntax error/);
  });

  it('reports a merge key whose value is not a map at its position, instead of throwing (found by fuzzing)', () => {
    for (const [yaml, line, col] of [
      ['http:\n  routers:\n    <<: 1\n', 3, 5],
      ['http:\n  routers:\n    <<: [{ a: 1 }, 2]\n', 3, 5],
      ['x: &v 3\nhttp:\n  <<: *v\n', 3, 3],
    ] as const) {
      const src = parseYaml(yaml, 'm.yaml');
      assert.equal(src.data, undefined, yaml);
      assert.deepEqual(
        src.issues.map((i) => [i.message, i.line, i.col]),
        [['YAML syntax error: Merge sources must be maps or map aliases', line, col]],
        yaml,
      );
    }
    assert.deepEqual(parseYaml('b: &m { x: 1 }\na:\n  <<: [*m, { y: 2 }]\n', 'ok.yaml').data, {
      b: { x: 1 },
      a: { x: 1, y: 2 },
    });
  });

  it('refuses a __proto__ key, which copying would drop or turn into a prototype', () => {
    const src = parseYaml('http:\n  routers:\n    __proto__: { rule: x }\n', 'p.yaml');
    assert.equal(src.data, undefined);
    assert.deepEqual(
      src.issues.map((i) => [i.message, i.line, i.col]),
      [['`__proto__` is not allowed as a key or name', 3, 5]],
    );
  });

  it('reports duplicate keys as errors', () => {
    const src = parseYaml('a: 1\na: 2\n', 'dup.yaml');
    assert.equal(src.data, undefined);
    assert.equal(src.issues[0]?.line, 2);
  });
});

describe('locate', () => {
  const { locate } = parseYaml(text, 'f.yaml');

  it('points at a value, or at its key when asked', () => {
    assert.deepEqual(locate(['http', 'routers', 'api', 'rule']), {
      file: 'f.yaml',
      line: 4,
      col: 13,
      exact: true,
    });
    assert.deepEqual(locate(['http', 'routers', 'api', 'rule'], 'key'), {
      file: 'f.yaml',
      line: 4,
      col: 7,
      exact: true,
    });
    assert.deepEqual(locate(['http', 'routers', 'api', 'list', 1]), {
      file: 'f.yaml',
      line: 9,
      col: 17,
      exact: true,
    });
  });

  it('points at the parent key for a missing key', () => {
    assert.deepEqual(locate(['http', 'routers', 'api', 'service']), {
      file: 'f.yaml',
      line: 3,
      col: 5,
      exact: true,
    });
  });

  it('points at the key of an empty value', () => {
    assert.deepEqual(locate(['http', 'routers', 'api', 'empty']), {
      file: 'f.yaml',
      line: 10,
      col: 7,
      exact: true,
    });
  });

  it('maps an offset inside a plain one-line scalar to the exact character', () => {
    // 'Bad' is at offset 13 of the rule; the rule starts at col 13.
    assert.deepEqual(locate(['http', 'routers', 'api', 'rule'], 'value', 13), {
      file: 'f.yaml',
      line: 4,
      col: 26,
      exact: true,
    });
  });

  it('accounts for quotes and escapes in quoted scalars', () => {
    // "it's Bad": 'Bad' at offset 5; source is 'it''s Bad' starting at col 15.
    assert.deepEqual(locate(['http', 'routers', 'api', 'single'], 'value', 5), {
      file: 'f.yaml',
      line: 5,
      col: 22,
      exact: true,
    });
    // "a<TAB>Bad": 'Bad' at offset 2; source "a\tBad" starting at col 15.
    assert.deepEqual(locate(['http', 'routers', 'api', 'double'], 'value', 2), {
      file: 'f.yaml',
      line: 6,
      col: 19,
      exact: true,
    });
  });

  it('falls back to the scalar start, not exact, for block scalars', () => {
    const at = locate(['http', 'routers', 'api', 'block'], 'value', 10);
    assert.equal(at.exact, false);
    assert.equal(at.line, 7);
  });

  it('follows YAML merge keys', () => {
    const src = parseYaml('base: &b\n  x: 1\nitem:\n  <<: *b\n  y: 2\n', 'm.yaml');
    assert.deepEqual(src.data, { base: { x: 1 }, item: { x: 1, y: 2 } });
    assert.deepEqual(src.locate(['item', 'x']), { file: 'm.yaml', line: 2, col: 6, exact: true });
  });
});

describe('parseYaml of a large text (parsed on a worker thread)', () => {
  /** `n` routers, ~60 bytes each: past OFFLOAD_MIN_CHARS from ~4,400 on. */
  function routers(n: number, tail = ''): string {
    const lines = ['http:', '  routers:'];
    for (let i = 0; i < n; i++) lines.push(`    r${i}: { rule: "Host(\`h${i}.example.com\`)", service: be }`);
    return `${lines.join('\n')}\n${tail}`;
  }

  it('returns the same data as a parse on this thread, and locates paths in it', () => {
    const big = routers(6000);
    assert.ok(big.length >= OFFLOAD_MIN_CHARS);
    const r = parseYaml(big, 'big.yaml');
    assert.deepEqual(r.issues, []);
    const here = parseYamlHere(big, 'big.yaml');
    assert.deepEqual(r.data, here.data);
    // The worker itself answered (parseYaml falls back to this thread when it cannot).
    assert.deepEqual(parseYamlOffThread(big, 'big.yaml'), { data: here.data, issues: [] });
    const routersOf = (r.data as { http: { routers: Record<string, { rule: string }> } }).http.routers;
    assert.equal(routersOf.r5999?.rule, 'Host(`h5999.example.com`)');
    assert.deepEqual(r.locate(['http', 'routers', 'r5999', 'service'], 'value'), {
      file: 'big.yaml',
      line: 6002,
      col: 58,
      exact: true,
    });
  });

  it('reports errors with their positions, as a parse on this thread does', () => {
    const big = routers(6000, '    r0: { rule: "Host(`dup`)", service: be }\n');
    const r = parseYaml(big, 'big.yaml');
    assert.equal(r.data, undefined);
    assert.deepEqual(r.issues, parseYamlHere(big, 'big.yaml').issues);
    assert.equal(r.issues[0]?.line, 6003);
    assert.match(r.issues[0]?.message ?? '', /duplicate key "r0"/);
  });
});
