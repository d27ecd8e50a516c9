import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIssue } from './issues.ts';
import { MAX_DOCUMENT_CHARS, parseYaml } from './yaml-source.ts';

/** The "billion laughs" pattern: each level repeats the previous one nine times (9^7 leaves). */
function aliasBomb(levels = 7): string {
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < levels; i++) {
    const name = String.fromCharCode(97 + i);
    const prev = String.fromCharCode(96 + i);
    lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  return `${lines.join('\n')}\n`;
}

describe('parseYaml limits', () => {
  it('refuses a YAML alias bomb with an error naming the file, instead of throwing', () => {
    const src = parseYaml(aliasBomb(), 'bomb.yaml');
    assert.equal(src.data, undefined);
    assert.deepEqual(
      src.issues.map((i) => formatIssue(i)),
      [
        'bomb.yaml: YAML aliases expand too much (more than 1000 nodes): refused as a resource exhaustion attack; write the values out or use fewer aliases',
      ],
    );
  });

  it('still reads ordinary anchors, aliases and merge keys', () => {
    const src = parseYaml('base: &b { x: 1 }\nitems: [*b, *b, *b]\nc: { <<: *b, y: 2 }\n', 'ok.yaml');
    assert.deepEqual(src.issues, []);
    assert.deepEqual(src.data, { base: { x: 1 }, items: [{ x: 1 }, { x: 1 }, { x: 1 }], c: { x: 1, y: 2 } });
  });

  it('refuses a document over the size limit before parsing it', () => {
    const src = parseYaml(`a: "${'x'.repeat(MAX_DOCUMENT_CHARS)}"\n`, 'big.yaml');
    assert.equal(src.data, undefined);
    assert.equal(src.issues.length, 1);
    assert.match(
      formatIssue(src.issues[0]!),
      /^big\.yaml: the file is too large \(\d+ characters; at most 16777216\)$/,
    );
  });
});
