import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type * as Api from '../../types/plugin.d.ts';
import type { HeaderList } from '../core/headers.ts';
import type { DirectResponse, RequestHead, ResponseHead } from '../core/request.ts';
import type {
  BodyFilter,
  BodyOutput,
  Lease,
  RequestControl,
  RequestOutcome,
} from '../middleware/middleware.ts';

/*
 * types/plugin.d.ts is written by hand, for plugin authors; these checks keep it a true subset of
 * the proxy's own interfaces: what the proxy hands a plugin satisfies the published types, and
 * what a plugin hands back satisfies the proxy's. A change on either side that breaks this fails
 * `npm run typecheck` here.
 */

type Assignable<A, B> = [A] extends [B] ? true : false;

const compatible: [
  // The proxy → the plugin.
  Assignable<RequestHead, Api.PluginRequest>,
  Assignable<ResponseHead, Api.PluginResponse>,
  Assignable<HeaderList, Api.HeaderFields>,
  Assignable<RequestControl, Api.RequestControl>,
  Assignable<RequestOutcome, Api.RequestOutcome>,
  Assignable<BodyOutput, Api.BodyOutput>,
  // The plugin → the proxy.
  Assignable<Api.DirectResponse, DirectResponse>,
  Assignable<Api.Lease, Lease>,
  Assignable<Api.BodyFilter, BodyFilter>,
  Assignable<Api.BodyOutput, BodyOutput>,
] = [true, true, true, true, true, true, true, true, true, true];

describe('plugin API', () => {
  it('is a subset of the middleware interfaces (checked by the type checker)', () => {
    assert.ok(compatible.every((c) => c));
  });

  it('is published as traffic-management/plugin', () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      name: string;
      exports: Record<string, { types?: string }>;
    };
    assert.equal(pkg.name, 'traffic-management');
    const types = pkg.exports['./plugin']?.types;
    assert.equal(types, './types/plugin.d.ts');
    assert.ok(existsSync(join(root, types)));
  });
});
