import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { middlewareSchemas } from '../config/dynamic/middlewares.ts';
import { middlewareFactories } from './registry.ts';

describe('middleware registry', () => {
  it('has one factory per schema, each with its YAML key as type', () => {
    assert.deepEqual(Object.keys(middlewareFactories).sort(), Object.keys(middlewareSchemas).sort());
    for (const [key, factory] of Object.entries(middlewareFactories)) assert.equal(factory.type, key);
  });
});
