import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import type { StandardSchemaV1 } from '../../types/plugin.d.ts';
import { validateOptions } from './options.ts';

describe('plugin options', () => {
  const schema = z.strictObject({
    header: z.string(),
    count: z.number().int().default(1),
    tags: z.array(z.string()),
  });

  it('gives the schema output (defaults applied) when the options are valid', () => {
    assert.deepEqual(validateOptions(schema, { header: 'X', tags: [] }), {
      value: { header: 'X', count: 1, tags: [] },
    });
  });

  it('reports each issue with its path below the options', () => {
    const r = validateOptions(schema, { header: 1, tags: ['a', 2] });
    assert.ok('issues' in r);
    assert.deepEqual(
      r.issues.map((i) => i.path),
      [['header'], ['tags', 1]],
    );
    assert.match(r.issues[0]!.message, /expected string/);
  });

  it('reports each unknown key of a zod object at the key itself', () => {
    const r = validateOptions(schema, { header: 'X', tags: [], bogus: 1, other: 2 });
    assert.ok('issues' in r);
    assert.deepEqual(r.issues, [
      { message: 'unknown key `bogus`', path: ['bogus'], key: true },
      { message: 'unknown key `other`', path: ['other'], key: true },
    ]);
  });

  it('takes any Standard Schema, path segments given as keys or as objects', () => {
    const hand: StandardSchemaV1<unknown, string> = {
      '~standard': {
        version: 1,
        vendor: 'hand',
        validate: (v) =>
          typeof v === 'string' ? { value: v } : { issues: [{ message: 'no', path: [{ key: 'a' }, 0] }] },
      },
    };
    assert.deepEqual(validateOptions(hand, 'x'), { value: 'x' });
    assert.deepEqual(validateOptions(hand, 1), { issues: [{ message: 'no', path: ['a', 0] }] });
  });

  it('turns a schema that throws or validates asynchronously into an issue', () => {
    const throwing: StandardSchemaV1 = {
      '~standard': {
        version: 1,
        vendor: 'x',
        validate: () => {
          throw new Error('kaboom');
        },
      },
    };
    const r1 = validateOptions(throwing, {});
    assert.ok('issues' in r1);
    assert.match(r1.issues[0]!.message, /schema threw: kaboom/);
    const r2 = validateOptions(
      z.object({}).refine(async () => true),
      {},
    );
    assert.ok('issues' in r2);
    assert.match(r2.issues[0]!.message, /must be synchronous/);
  });
});
