import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CASES, SEEDS } from './corpus/cases.ts';
import { type Comparison, compare, type Verdict } from './corpus/compare.ts';
import { mutations } from './corpus/mutate.ts';
import { NodeOracle } from './corpus/node-oracle.ts';

/**
 * Differential test of our HTTP/1.1 request codec against llhttp, driven through a real node:http
 * server with default options. The invariant (ARCHITECTURE.md §2): whatever node rejects, we
 * reject; whatever both accept parses to the same method, target, fields, keep-alive and body.
 * Where we reject what node accepts, that is by design and only counted.
 *
 * DIFF_SEED / DIFF_MUTATIONS explore other mutation sets without editing the file.
 */
const SEED = Number(process.env['DIFF_SEED'] ?? 1);
const MUTATIONS = Number(process.env['DIFF_MUTATIONS'] ?? 5000);

interface Row {
  readonly name: string;
  readonly bytes: string;
  readonly result: Comparison;
}

const rows: Row[] = [];

function failing(r: Row): boolean {
  return r.result.verdict === 'violation' || r.result.verdict === 'mismatch';
}

function show(r: Row): string {
  return `${r.result.verdict} ${r.name}: ${JSON.stringify(r.bytes.length > 300 ? `${r.bytes.slice(0, 300)}…` : r.bytes)}\n    ${r.result.detail}`;
}

describe('differential: our request codec against node:http (llhttp)', () => {
  const oracle = new NodeOracle();
  before(() => oracle.start());
  after(() => oracle.close());

  async function run(name: string, bytes: string): Promise<Row> {
    const buf = Buffer.from(bytes, 'latin1');
    const row = { name, bytes, result: compare(buf, await oracle.run(buf)) };
    rows.push(row);
    return row;
  }

  for (const c of CASES) {
    it(`is at least as strict as node on ${c.name}`, async () => {
      const row = await run(c.name, c.bytes);
      assert.ok(!failing(row), show(row));
    });
  }

  it(`is at least as strict as node on ${MUTATIONS} seeded mutations of valid requests (seed ${SEED})`, async () => {
    const inputs = mutations(SEEDS, MUTATIONS, SEED);
    const bad: Row[] = [];
    for (let k = 0; k < inputs.length; k++) {
      const row = await run(`mutation #${k}`, inputs[k]!);
      if (failing(row)) bad.push(row);
    }
    assert.equal(bad.length, 0, `${bad.length} disagreement(s):\n${bad.slice(0, 40).map(show).join('\n')}`);
  });

  it('reports how the corpus split (informational)', (t) => {
    const counts: Record<Verdict, number> = { agree: 0, violation: 0, mismatch: 0, stricter: 0, waits: 0 };
    for (const r of rows) counts[r.result.verdict]++;
    t.diagnostic(
      `inputs: ${rows.length} (${CASES.length} hand-written, ${rows.length - CASES.length} mutations)`,
    );
    t.diagnostic(
      `agree ${counts.agree}; node rejects/ours accepts ${counts.violation}; both accept but differ ${counts.mismatch}; ` +
        `ours rejects/node accepts ${counts.stricter}; node rejects/ours still waiting ${counts.waits}`,
    );
    for (const r of rows) {
      if (r.result.verdict === 'stricter' && !r.name.startsWith('mutation'))
        t.diagnostic(`stricter: ${r.name} — ${r.result.detail}`);
    }
    assert.ok(rows.length >= CASES.length);
  });
});
