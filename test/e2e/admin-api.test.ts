import { describe, it } from 'node:test';

/*
 * The admin API against the real proxy process (src/main.ts wiring: ApiProvider beside the file
 * provider, AdminServer on the `api.entryPoint`), with real backends and real clients. To be
 * filled in once main.ts serves the admin entry point; the unit tests beside src/admin/ cover
 * the handler over a real ConfigWatcher.
 */

describe('admin API (e2e)', () => {
  it.todo('serves /ping, /api/overview, /api/entrypoints and /api/version on the admin entry point only');
  it.todo('lists the file provider routers, services (servers up, pool counters) and middlewares');
  it.todo('creates a service and a router through the API, then routes a request through them to a backend');
  it.todo('rejects an invalid write with its issues and keeps routing as before');
  it.todo('returns a diff for a dry run and changes nothing');
  it.todo('answers 412 when If-Match names an old ETag of /api/config');
  it.todo('rolls back to the previous API configuration and routes as before the last write');
  it.todo('answers 400 and keeps the previous routing when a write refers to a missing @file service');
  it.todo('keeps API changes across a restart when api.persistFile is set (file mode 0600)');
  it.todo('explains a request: matched router, losing candidates, middleware chain and service');
  it.todo('shows a server going down and back up in /api/http/services when its backend stops and restarts');
  it.todo('wants credentials when api.auth is set (401 with WWW-Authenticate), and serves them');
  it.todo('answers 405 to writes when api.readOnly is true');
  it.todo('traffic explain --config FILE prints the matching router and exits 0, 1 without a match');
});
