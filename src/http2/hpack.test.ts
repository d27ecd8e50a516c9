import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HPACK_ERROR, HPACK_OK, HPACK_TOO_LARGE, HpackDecoder } from './hpack-decoder.ts';
import { HpackEncoder } from './hpack-encoder.ts';
import { huffmanDecode } from './hpack-huffman.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function decode(d: HpackDecoder, block: string): string[] {
  const out: string[] = [];
  const b = hex(block);
  assert.equal(d.decode(b, 0, b.length, out), HPACK_OK, d.error);
  return out;
}

const REQ1 = [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'www.example.com'];
const REQ2 = [...REQ1, 'cache-control', 'no-cache'];
const REQ3 = [
  ':method',
  'GET',
  ':scheme',
  'https',
  ':path',
  '/index.html',
  ':authority',
  'www.example.com',
  'custom-key',
  'custom-value',
];
const DATE1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const RES1 = [
  ':status',
  '302',
  'cache-control',
  'private',
  'date',
  DATE1,
  'location',
  'https://www.example.com',
];
const RES2 = [
  ':status',
  '307',
  'cache-control',
  'private',
  'date',
  DATE1,
  'location',
  'https://www.example.com',
];
const RES3 = [
  ':status',
  '200',
  'cache-control',
  'private',
  'date',
  'Mon, 21 Oct 2013 20:13:22 GMT',
  'location',
  'https://www.example.com',
  'content-encoding',
  'gzip',
  'set-cookie',
  'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1',
];

describe('HPACK decoder: RFC 7541 Appendix C', () => {
  it('C.3: requests without Huffman coding, sharing one dynamic table', () => {
    const d = new HpackDecoder(4096, 1 << 20, 100);
    assert.deepEqual(decode(d, '828684410f7777772e6578616d706c652e636f6d'), REQ1);
    assert.equal(d.tableSize, 57);
    assert.deepEqual(decode(d, '828684be58086e6f2d6361636865'), REQ2);
    assert.equal(d.tableSize, 110);
    assert.deepEqual(decode(d, '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565'), REQ3);
    assert.equal(d.tableSize, 164);
  });

  it('C.4: the same requests with Huffman coding', () => {
    const d = new HpackDecoder(4096, 1 << 20, 100);
    assert.deepEqual(decode(d, '828684418cf1e3c2e5f23a6ba0ab90f4ff'), REQ1);
    assert.deepEqual(decode(d, '828684be5886a8eb10649cbf'), REQ2);
    assert.deepEqual(decode(d, '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf'), REQ3);
    assert.equal(d.tableSize, 164);
  });

  it('C.5: responses without Huffman coding in a 256-byte table, with evictions', () => {
    const d = new HpackDecoder(256, 1 << 20, 100);
    assert.deepEqual(
      decode(
        d,
        `4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d54
         6e1768747470733a2f2f7777772e6578616d706c652e636f6d`,
      ),
      RES1,
    );
    assert.equal(d.tableSize, 222);
    assert.deepEqual(decode(d, '4803333037c1c0bf'), RES2);
    assert.equal(d.tableSize, 222);
    assert.deepEqual(
      decode(
        d,
        `88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a697077
         38666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d
         333630303b2076657273696f6e3d31`,
      ),
      RES3,
    );
    assert.equal(d.tableSize, 215);
  });

  it('C.6: the same responses with Huffman coding', () => {
    const d = new HpackDecoder(256, 1 << 20, 100);
    assert.deepEqual(
      decode(
        d,
        `488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c7
         8f0b97c8e9ae82ae43d3`,
      ),
      RES1,
    );
    assert.deepEqual(decode(d, '4883640effc1c0bf'), RES2);
    assert.deepEqual(
      decode(
        d,
        `88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335
         dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007`,
      ),
      RES3,
    );
    assert.equal(d.tableSize, 215);
  });
});

describe('HPACK decoder: errors and limits', () => {
  const fails = (block: string, settingsMax = 4096): void => {
    const d = new HpackDecoder(settingsMax, 1 << 20, 100);
    const b = hex(block);
    assert.equal(d.decode(b, 0, b.length, []), HPACK_ERROR, block);
  };

  it('refuses index 0, an index past both tables, truncated strings and integers', () => {
    fails('80');
    fails('be'); // dynamic index 1 of an empty table
    fails('410f7777'); // literal value shorter than its length
    fails('ff'); // integer continuation missing
    fails('ffffffffff7f'); // integer too large
  });

  it('refuses a table size update over our SETTINGS_HEADER_TABLE_SIZE or after a field', () => {
    fails('3fe21f', 4096); // 4096 + 1 > 4096
    fails('823f01');
    const d = new HpackDecoder(4096, 1 << 20, 100);
    const b = hex('3fe11f' + '20' + '82');
    const out: string[] = [];
    assert.equal(d.decode(b, 0, b.length, out), HPACK_OK);
    assert.deepEqual(out, [':method', 'GET']);
  });

  it('refuses bad Huffman: EOS inside, padding of 8 bits or more, padding not all ones', () => {
    const out = Buffer.alloc(16);
    assert.equal(huffmanDecode(hex('1f'), 0, 1, out), 1); // 'a' + 3 bits of padding
    assert.equal(out[0], 0x61);
    assert.equal(huffmanDecode(hex('1fff'), 0, 2, out), -1);
    assert.equal(huffmanDecode(hex('ffffffff'), 0, 4, out), -1);
    assert.equal(huffmanDecode(hex('18'), 0, 1, out), -1); // 'a' then padding 000
  });

  it('decodes a block over the header list limits whole (the table stays in step) but keeps no field', () => {
    const d = new HpackDecoder(4096, 60, 100);
    const b = hex('828684410f7777772e6578616d706c652e636f6d');
    const out: string[] = [];
    assert.equal(d.decode(b, 0, b.length, out), HPACK_TOO_LARGE);
    assert.equal(d.tableSize, 57, 'the indexed field still went into the table');
    const few = new HpackDecoder(4096, 1 << 20, 3);
    const o2: string[] = [];
    assert.equal(few.decode(b, 0, b.length, o2), HPACK_TOO_LARGE);
  });
});

describe('HPACK encoder', () => {
  it('indexes the static :status values and writes everything else as literals our decoder reads back', () => {
    const e = new HpackEncoder();
    const fields = [
      ':status',
      '200',
      'content-type',
      'text/plain',
      'x-custom',
      'a'.repeat(300),
      'set-cookie',
      'é=ü',
    ];
    const n = e.encode(fields);
    assert.equal(e.buffer[0], 0x88);
    const d = new HpackDecoder(4096, 1 << 20, 100);
    const out: string[] = [];
    assert.equal(d.decode(e.buffer, 0, n, out), HPACK_OK);
    assert.deepEqual(out, fields);
    assert.equal(d.tableSize, 0, 'nothing indexed');
    const n2 = e.encode([':status', '418']);
    assert.deepEqual([...e.buffer.subarray(0, n2)], [0x08, 3, 0x34, 0x31, 0x38]);
  });

  it('announces a table size of 0 once after the client changed SETTINGS_HEADER_TABLE_SIZE', () => {
    const e = new HpackEncoder();
    e.tableSizeChanged();
    assert.deepEqual([...e.buffer.subarray(0, e.encode([':status', '200']))], [0x20, 0x88]);
    assert.deepEqual([...e.buffer.subarray(0, e.encode([':status', '200']))], [0x88]);
  });
});
