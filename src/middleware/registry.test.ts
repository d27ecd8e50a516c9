import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { middlewareSchemas } from '../config/dynamic/middlewares.ts';
import { middlewareFactory, middlewareTypes } from './registry.ts';

describe('middleware registry', () => {
  it('has one factory per schema, each with its YAML key as type', () => {
    assert.deepEqual([...middlewareTypes].sort(), Object.keys(middlewareSchemas).sort());
    for (const key of middlewareTypes) assert.equal(middlewareFactory(key).type, key);
  });

  it('loads a factory once: the same object on every call', () => {
    assert.equal(middlewareFactory('jwt'), middlewareFactory('jwt'));
  });
});
