/**
 * The HTTP/2 server engines the HTTP/2 e2e tests run against (static `experimental.http2Engine`):
 * both, or only the one `TEST_H2_ENGINE` names (to iterate on one).
 */
export type H2Engine = 'node' | 'own';

const only = process.env['TEST_H2_ENGINE'];

export const H2_ENGINES: readonly H2Engine[] = only === 'node' || only === 'own' ? [only] : ['node', 'own'];

/** The proxy's environment selecting `engine` (a static key set by env, as a user could). */
export function engineEnv(engine: H2Engine): NodeJS.ProcessEnv {
  return { TRAFFIC_EXPERIMENTAL_HTTP2ENGINE: engine };
}
