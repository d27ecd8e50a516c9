/**
 * Request paths that try to reach `/p/admin` past a router for it (traversal, dot segments,
 * duplicate slashes, encodings), with the one cleanly separated counter-example at the end. One
 * list for the differential corpus, the end-to-end tests on HTTP/1.1 and HTTP/2, and the side by
 * side run against nginx (test/e2e/paths.test.ts): the proxy must refuse or normalise each one,
 * never forward it raw to a route other than the admin one.
 */
export const PATH_VARIANTS: readonly string[] = [
  '/p/public/../admin',
  '/p/./admin',
  '//p/admin',
  '/p//admin',
  '/p/admin/.',
  '/p/public/../../../admin',
  '/../p/admin',
  '/p/%2e%2e/p/admin',
  '/p/public/%2e%2e/admin',
  '/p/public/%2E%2E/admin',
  '/p/%2e/admin',
  '/p/public/.%2e/admin',
  '/p/a%64min',
  '/p/public/..%2fadmin',
  '/p/public/..%2Fadmin',
  '/p/public%2f..%2fadmin',
  '/p/public/%2e%2e%2fadmin',
  '/p/public/..%5cadmin',
  '/p/public/..\\admin',
  '/p/public/%252e%252e/admin',
  '/p/%00/admin',
  '/p/admin%00',
  '/p/%zz/../admin',
  // Dot segments with path parameters, which Tomcat, Jetty and Spring strip (CVE-2026-137481).
  '/p/public/..;x/admin',
  '/p/.;/admin',
  '/p/public/%2e%2e;jsessionid=1/admin',
];
