import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { z } from 'zod';
import { formatIssue } from '../issues.ts';
import { fromZodIssues } from '../zod-issues.ts';
import {
  entryPointRedirections,
  entryPointTls,
  REDIRECTION_PRIORITY,
  redirectionIssues,
} from './entry-point-tls.ts';
import { loadStaticConfig } from './load.ts';
import { http01EntryPoints, ingressNginxNonTlsEntryPoints } from './tls-entry-points.ts';

function errors(schema: z.ZodType, input: unknown): string[] {
  const r = schema.safeParse(input, { reportInput: true });
  assert.equal(r.success, false, 'expected the input to be refused');
  return fromZodIssues(r.error?.issues ?? [], { locate: () => ({ exact: true }) }).map(formatIssue);
}

describe('entry point http.redirections', () => {
  it("parses Traefik's example and fills scheme, permanent and priority", () => {
    assert.deepEqual(
      entryPointRedirections.parse({ entryPoint: { to: 'websecure', scheme: 'https', permanent: true } }),
      {
        entryPoint: { to: 'websecure', scheme: 'https', permanent: true, priority: REDIRECTION_PRIORITY },
      },
    );
    assert.deepEqual(entryPointRedirections.parse({ entryPoint: { to: ':443' } }), {
      entryPoint: { to: ':443', scheme: 'https', permanent: true, priority: REDIRECTION_PRIORITY },
    });
    assert.ok(REDIRECTION_PRIORITY > 1e15, 'above the length of any rule');
  });

  it('reports a missing target, a bad port, a bad scheme and unknown keys at their paths', () => {
    assert.deepEqual(errors(entryPointRedirections, { entryPoint: { scheme: 'https' } }), [
      'entryPoint.to: required key `to` is missing (expected a string)',
    ]);
    assert.deepEqual(
      errors(entryPointRedirections, {
        entryPoint: { to: ':70000', scheme: 'ht tps', permanent: 'yes', priority: 1.5 },
      }),
      [
        'entryPoint.to: invalid redirection target ":70000" (expected an entry point name (websecure) or a port (:443))',
        'entryPoint.scheme: must be a URL scheme such as https',
        'entryPoint.permanent: wrong type: got "yes" (expected true or false)',
        'entryPoint.priority: wrong type: got 1.5 (expected a whole number)',
      ],
    );
    assert.deepEqual(errors(entryPointRedirections, { entrypoint: {} }), [
      'entrypoint: unknown key `entrypoint` (did you mean `entryPoint`?)',
    ]);
  });

  it('cross-checks targets against the entry points: unknown names and self-redirects are errors, ports are not', () => {
    const redirect = (to: string) => ({
      http: { redirections: entryPointRedirections.parse({ entryPoint: { to } }) },
    });
    const issues = redirectionIssues({
      web: redirect('websecure'),
      alt: redirect('nowhere'),
      loop: redirect('loop'),
      port: redirect(':8443'),
      websecure: {},
    });
    assert.deepEqual(issues, [
      {
        path: ['entryPoints', 'alt', 'http', 'redirections', 'entryPoint', 'to'],
        message: 'unknown entry point `nowhere`',
      },
      {
        path: ['entryPoints', 'loop', 'http', 'redirections', 'entryPoint', 'to'],
        message: 'entry point `loop` cannot redirect to itself',
      },
    ]);
  });
});

describe('entry point http.tls', () => {
  it('parses options, certResolver and domains', () => {
    assert.deepEqual(
      entryPointTls.parse({
        options: 'modern',
        certResolver: 'le',
        domains: [{ main: 'example.com', sans: ['*.example.com'] }],
      }),
      { options: 'modern', certResolver: 'le', domains: [{ main: 'example.com', sans: ['*.example.com'] }] },
    );
    assert.deepEqual(entryPointTls.parse({}), { domains: [] });
  });

  it('reports bad values at their paths', () => {
    assert.deepEqual(errors(entryPointTls, { certResolver: 3, domains: [{ sans: [] }], option: 'x' }), [
      'certResolver: wrong type: got 3 (expected a string)',
      'domains[0].main: required key `main` is missing (expected a string)',
      'option: unknown key `option` (did you mean `options`?)',
    ]);
  });
});

// Traefik gives them to the routers as plain strings (applyModel); only the resolver's order fails.
describe('entryPoints.<name>.http.tls.domains names no certificate can hold', () => {
  it('load with a located warning', () => {
    const text = `entryPoints:
  websecure:
    address: ":443"
    http:
      tls:
        certResolver: le
        domains: [{ main: "\${DOMAIN}", sans: ["*.example.com"] }]
certificatesResolvers:
  le: { acme: { email: a@example.com, httpChallenge: { entryPoint: websecure } } }
`;
    const r = loadStaticConfig({ file: 'static.yaml', readFile: () => text, argv: [], env: {} });
    assert.deepEqual(r.config?.entryPoints['websecure']?.http?.tls?.domains, [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a placeholder left unexpanded, the case
      { main: '${DOMAIN}', sans: ['*.example.com'] },
    ]);
    assert.deepEqual(r.issues.map(formatIssue), [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a placeholder left unexpanded, the case
      'static.yaml:7:27: warning: entryPoints.websecure.http.tls.domains[0].main: invalid domain name "${DOMAIN}": no certificate can be obtained for this entry (its routers are served, as in Traefik, whose resolver\'s order fails)',
    ]);
  });
});

describe('ingressNginxNonTlsEntryPoints (Traefik v3.7.x, #13629)', () => {
  const tls = { http: { tls: {} } };
  const plain = { http: {} };

  it('takes every entry point without TLS but the internal traefik one', () => {
    assert.deepEqual(
      ingressNginxNonTlsEntryPoints({ web: plain, admin: plain, traefik: plain, websecure: tls }),
      ['admin', 'web'],
    );
  });

  it('takes only the asDefault ones when an entry point is marked', () => {
    assert.deepEqual(
      ingressNginxNonTlsEntryPoints({
        web: { ...plain, asDefault: true },
        admin: plain,
        traefik: plain,
        websecure: tls,
      }),
      ['web'],
    );
  });

  it('leaves out a listened name the static configuration does not define (the implicit admin entry point)', () => {
    assert.deepEqual(ingressNginxNonTlsEntryPoints({ web: plain }, ['web', 'traefik']), ['web']);
  });
});

describe('http01EntryPoints (Traefik internal.go acme)', () => {
  it('lists each httpChallenge entry point once, in the resolvers order, and those with allowACMEByPass', () => {
    const got = http01EntryPoints({
      entryPoints: { web: {}, alt: { allowACMEByPass: true }, other: { allowACMEByPass: false } },
      certificatesResolvers: {
        a: { acme: { httpChallenge: { entryPoint: 'alt' } } },
        b: { acme: { httpChallenge: { entryPoint: 'web' } } },
        c: { acme: {} },
        d: {},
        e: { acme: { httpChallenge: { entryPoint: 'alt' } } },
        f: { acme: { httpChallenge: { entryPoint: 'web' } } },
      },
    });
    assert.deepEqual(got, { entryPoints: ['alt', 'web'], bypass: new Set(['alt']) });
  });

  it('is empty without resolvers', () => {
    assert.deepEqual(http01EntryPoints({ entryPoints: { web: {} } }), { entryPoints: [], bypass: new Set() });
  });
});
