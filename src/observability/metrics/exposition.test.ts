import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  braces,
  bySeriesLabels,
  escapeHelp,
  escapeLabelValue,
  formatValue,
  isValidLabelName,
  isValidMetricName,
  seriesLabels,
} from './exposition.ts';
import { parseExposition } from './test-exposition-parser.ts';

describe('exposition pieces', () => {
  it('escapes backslash, double quote and line feed in label values and nothing else', () => {
    assert.equal(escapeLabelValue('a\\b"c\nd\te'), 'a\\\\b\\"c\\nd\te');
    assert.equal(escapeLabelValue('plain'), 'plain');
  });

  it('escapes backslash and line feed in HELP but leaves quotes alone', () => {
    assert.equal(escapeHelp('say "hi"\\\nbye'), 'say "hi"\\\\\\nbye');
  });

  it('spells infinities and NaN the way Prometheus parses them', () => {
    assert.deepEqual([Infinity, -Infinity, Number.NaN, 0.1, 3, 1e21, 1e-7].map(formatValue), [
      '+Inf',
      '-Inf',
      'NaN',
      '0.1',
      '3',
      '1e+21',
      '1e-7',
    ]);
  });

  it('accepts metric names with colons but label names without, and reserves __ labels', () => {
    assert.equal(isValidMetricName('a:b_c1'), true);
    assert.equal(isValidMetricName('1abc'), false);
    assert.equal(isValidMetricName('a-b'), false);
    assert.equal(isValidLabelName('code'), true);
    assert.equal(isValidLabelName('a:b'), false);
    assert.equal(isValidLabelName('__name__'), false);
  });

  it("writes a series' labels sorted by name, escaped, and orders series by their values (client_golang's)", () => {
    const s = seriesLabels([
      ['service', 'a"b'],
      ['code', '200'],
      ['protocol', 'http'],
      ['method', 'GET'],
    ]);
    assert.equal(s.text, 'code="200",method="GET",protocol="http",service="a\\"b"');
    assert.deepEqual(s.values, ['200', 'GET', 'http', 'a"b']);
    assert.equal(braces(seriesLabels([]).text), '');
    const series = [
      seriesLabels([
        ['entrypoint', 'b'],
        ['code', '200'],
      ]),
      seriesLabels([
        ['entrypoint', 'a'],
        ['code', '500'],
      ]),
      seriesLabels([
        ['entrypoint', 'a'],
        ['code', '200'],
      ]),
      seriesLabels([['code', '200']]),
    ];
    assert.deepEqual(
      series.sort(bySeriesLabels).map((x) => x.text),
      ['code="200"', 'code="200",entrypoint="a"', 'code="200",entrypoint="b"', 'code="500",entrypoint="a"'],
    );
  });
});

describe('the test parser itself', () => {
  const ok = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 2\n';

  it('reads a valid exposition back into families and unescapes label values', () => {
    const families = parseExposition('# HELP m M.\n# TYPE m gauge\nm{v="a\\"b\\\\c\\nd"} -1.5e3\n');
    assert.deepEqual(families.get('m')?.samples, [{ name: 'm', labels: { v: 'a"b\\c\nd' }, value: -1500 }]);
  });

  for (const [what, text] of [
    ['a family split in two runs', `${ok}# HELP b B.\n# TYPE b gauge\nb 1\na_total{x="2"} 1\n`],
    ['a second HELP', `${ok}# HELP a_total again\n`],
    ['a sample without TYPE', 'x 1\n'],
    ['a duplicate series', `${ok}a_total{x="1"} 3\n`],
    ['an unknown escape in a label value', '# TYPE m gauge\nm{v="\\t"} 1\n'],
    ['a missing final line feed', ok.slice(0, -1)],
    ['a bad value', '# TYPE m gauge\nm one\n'],
    ['two spaces before the value', '# TYPE m gauge\nm  1\n'],
    [
      'non-cumulative buckets',
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
    ],
    ['a +Inf bucket unlike _count', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n'],
    ['a histogram without +Inf', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
  ] as const) {
    it(`rejects ${what}`, () => {
      assert.throws(() => parseExposition(text));
    });
  }
});
