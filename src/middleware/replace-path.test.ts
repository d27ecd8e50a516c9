import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { replacePathFactory } from './replace-path.ts';
import { build, makeRequest, testContext } from './test-request.ts';

describe('replacePath', () => {
  it('replaces the path, keeps the query and sets X-Replaced-Path to the original path', () => {
    const req = makeRequest('http://a.test/old/p%20ath?x=1');
    build('replacePath', { path: '/new' }).onRequest!(req);
    assert.equal(req.path, '/new');
    assert.equal(req.query, 'x=1');
    assert.equal(req.headers.get('x-replaced-path'), '/old/p%20ath');
  });

  it('keeps a configured encoded path as written', () => {
    const req = makeRequest('http://a.test/x');
    build('replacePath', { path: '/a%2Fb' }).onRequest!(req);
    assert.equal(req.path, '/a%2Fb');
  });

  it('encodes characters that may not appear raw in a path', () => {
    const req = makeRequest('http://a.test/x');
    build('replacePath', { path: '/a b?' }).onRequest!(req);
    assert.equal(req.path, '/a%20b%3F');
  });

  it('refuses a path with a broken percent-escape', () => {
    const r = replacePathFactory.create({ path: '/a%zz' }, testContext());
    assert.ok('error' in r);
  });
});
