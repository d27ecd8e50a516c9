import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { generateRoutesConfig } from './routes-config.ts';

interface Parsed {
  entryPoints: { web: { address: string } };
  http: {
    routers: Record<string, { entryPoints: string[]; rule: string; service: string }>;
    services: { be: { loadBalancer: { servers: { url: string }[] } } };
  };
}

describe('generateRoutesConfig', () => {
  const text = generateRoutesConfig({
    routers: 10_000,
    address: '127.0.0.1:8080',
    backendUrl: 'http://127.0.0.1:9001',
  });
  const config = parse(text) as Parsed;
  const routers = Object.entries(config.http.routers);

  it('writes exactly the requested number of routers, all to the one service', () => {
    assert.equal(routers.length, 10_000);
    assert.ok(routers.every(([, r]) => r.service === 'be' && r.entryPoints[0] === 'web'));
    assert.deepEqual(config.http.services.be.loadBalancer.servers, [{ url: 'http://127.0.0.1:9001' }]);
    assert.equal(config.entryPoints.web.address, '127.0.0.1:8080');
  });

  it('has one catch-all and otherwise rules that a request to 127.0.0.1:8080/ cannot match', () => {
    assert.equal(config.http.routers['all']?.rule, 'PathPrefix(`/`)');
    assert.equal(config.http.routers['r1']?.rule, 'Host(`h1.example.com`) && PathPrefix(`/x`)');
    assert.equal(config.http.routers['r9999']?.rule, 'Host(`h9999.example.com`) && PathPrefix(`/x`)');
    const catchAlls = routers.filter(([, r]) => !r.rule.startsWith('Host('));
    assert.equal(catchAlls.length, 1);
  });

  it('gives every router a distinct host', () => {
    const hosts = new Set(routers.map(([, r]) => /Host\(`([^`]+)`\)/.exec(r.rule)?.[1] ?? 'none'));
    assert.equal(hosts.size, 10_000);
  });

  it('rejects a router count below one', () => {
    assert.throws(
      () => generateRoutesConfig({ routers: 0, address: 'a', backendUrl: 'b' }),
      /positive integer/,
    );
  });
});
