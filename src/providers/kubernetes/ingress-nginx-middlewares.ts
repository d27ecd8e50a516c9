import type { KubeObject } from './informer.ts';
import { type NginxConfig, nginxSize } from './ingress-nginx-annotations.ts';
import type { IngressBackend, NginxOptions } from './ingress-nginx-config.ts';
import type { KubeBuild, Obj } from './kube-build.ts';

/** What the middlewares of one Ingress's routers are made from. */
export interface NginxMiddlewareContext {
  readonly b: KubeBuild;
  readonly ns: string;
  readonly ingress: string;
  readonly cfg: NginxConfig;
  /** Every host of the handled Ingresses (from-to-www-redirect, server-alias). */
  readonly hosts: ReadonlySet<string>;
  /** The server-snippet of each host (Traefik's build.go serverSnippets: the oldest Ingress's). */
  readonly serverSnippets: ReadonlyMap<string, string>;
  readonly opts: NginxOptions;
  readonly configMaps: ReadonlyMap<string, KubeObject>;
  readonly where: string;
  /** Builds the error pages' load balancer `name` (Traefik's buildService: http://, no transport, sticky or hash). */
  readonly service: (backend: IngressBackend, name: string) => string | undefined;
}

/** Traefik's header name check (validateConfiguration, applyCustomHeaders). */
const HEADER_NAME = /^[a-zA-Z\d\-_]+$/;
const HEADER_VALUE = /^[a-zA-Z\d_ :;.,\\/"'?!(){}[\]@<>=\-+*#$&`|~^%]+$/;
/** ingress-nginx's x-forwarded-prefix check (Traefik's regexPathWithCapture). */
const PREFIX_VALUE = /^\/?[-._~a-zA-Z0-9/$:]*$/;
const BURST_MULTIPLIER = 5;
/** Traefik's unavailableServiceName: an empty load balancer, a 503. */
export const UNAVAILABLE = 'unavailable-service';
const CORS_ALLOW_HEADERS = [
  'DNT',
  'Keep-Alive',
  'User-Agent',
  'X-Requested-With',
  'If-Modified-Since',
  'Cache-Control',
  'Content-Type',
  'Range',
  'Authorization',
];

/**
 * Traefik's buildMiddlewares and applyMiddlewares (pkg/provider/kubernetes/ingress-nginx
 * middleware.go, translator.go), in their order: enable-access-log, custom-http-errors, app-root,
 * from-to-www-redirect (its own router), permanent/temporal-redirect, basic/digest auth,
 * buffering, source ranges, CORS, rewrite-target, upstream-vhost, limit-rpm, limit-rps,
 * limit-connections, custom-headers, auth-url (with auth-signin), retry. Each middleware is
 * `<routerKey>-<what>`, appended to `rt.middlewares`. False (reported) when one cannot be built: the caller makes the router answer
 * 503 (Traefik's translate sends a location with an error to `unavailable-service`).
 */
export function nginxMiddlewares(
  ctx: NginxMiddlewareContext,
  routerKey: string,
  rulePath: string,
  ruleHost: string,
  backend: IngressBackend,
  rt: Obj,
): boolean {
  const { b, cfg } = ctx;
  const mws: string[] = [];
  const add = (what: string, mw: Obj): void => {
    const name = `${routerKey}-${what}`;
    b.middlewares[name] = mw;
    b.source('http/middlewares', name, ctx.where);
    mws.push(name);
  };
  const fail = (message: string): false => {
    b.error(ctx.where, `router ${routerKey}: ${message}`);
    return false;
  };

  // enable-access-log: the router's access log on or off (Traefik's buildAccessLog).
  if (cfg['enable-access-log'] !== undefined) rt['observability'] = { accessLogs: cfg['enable-access-log'] };

  // custom-http-errors: the default backend answers these statuses.
  const codes = cfg['custom-http-errors'] ?? ctx.opts.customHTTPErrors;
  if (codes.length > 0 && backend.service?.name !== undefined) {
    let service: string | undefined = 'default-backend';
    const fallback = cfg['default-backend'] ?? '';
    if (fallback !== '') {
      service = `default-backend-${routerKey}`;
      if (ctx.service({ service: { name: fallback } }, service) === undefined)
        return fail(`custom-http-errors: default backend ${fallback} cannot be built`);
    } else if (ctx.opts.defaultBackendService === '') service = undefined;
    // Without a default backend the errors pass through, as with ingress-nginx. The page request
    // gets ingress-nginx's fields and the page's status is the client's (Traefik's translator
    // applyMiddlewares NginxHeaders, customerrors' nginx mode, #12738). The namespace goes as
    // `X-Namespaces`, Traefik's spelling (translator.go, and its tests expect it), where
    // ingress-nginx's error locations send `X-Namespace`.
    const svc = backend.service;
    if (service !== undefined)
      add('custom-http-errors', {
        errors: {
          status: [...codes],
          service,
          nginxHeaders: {
            'X-Namespaces': ctx.ns,
            'X-Ingress-Name': ctx.ingress,
            'X-Service-Name': svc.name,
            'X-Service-Port': String(svc.port?.name || (svc.port?.number ?? '')),
          },
        },
      });
  }

  // app-root: `/` (whatever its query, which is dropped) answers a 302 to the path, whatever the
  // method (Traefik's pkg/middlewares/ingressnginx/approot: http.Redirect with StatusFound; its
  // translator's older RedirectRegex `^(https?://[^/]+)/(\?.*)?$`).
  const appRoot = cfg['app-root'];
  if (appRoot?.startsWith('/') === true)
    add('app-root', {
      redirectRegex: { regex: '^(https?://[^/]+)/(\\?.*)?$', replacement: `$1${appRoot}`, statusCode: 302 },
    });

  if (cfg['from-to-www-redirect'] === true) fromToWww(ctx, routerKey, ruleHost, rt);

  // permanent-redirect and temporal-redirect (which wins), with their code (Traefik's StatusCode).
  if (cfg['permanent-redirect'] !== undefined || cfg['temporal-redirect'] !== undefined) {
    let url = '';
    let code = 0;
    if (cfg['permanent-redirect'] !== undefined) {
      url = cfg['permanent-redirect'];
      code = cfg['permanent-redirect-code'] ?? 301;
      if (code < 300 || code > 308) code = 301;
    }
    if (cfg['temporal-redirect'] !== undefined) {
      url = cfg['temporal-redirect'];
      code = cfg['temporal-redirect-code'] ?? 302;
      if (code < 300 || code > 308) code = 302;
    }
    add('redirect', {
      redirectRegex: { regex: '.*', replacement: url, statusCode: code },
    });
  }

  if (cfg['auth-type'] !== undefined) {
    const auth = authMiddleware(ctx);
    if (typeof auth === 'string') return fail(auth);
    add(...auth);
  }

  const buffering = bufferingMiddleware(ctx);
  if (buffering !== undefined) add('buffering', { buffering });

  const ranges = cfg['allowlist-source-range'] ?? cfg['whitelist-source-range'] ?? '';
  if (ranges !== '') {
    // Traefik v3.7: the provider's ipAllowListStrategy is the middleware's ipStrategy.
    const strategy = ctx.opts.ipAllowListStrategy;
    add('allowed-source-range', {
      ipAllowList: {
        sourceRange: ranges.split(',').map((s) => s.trim()),
        ...(strategy !== undefined ? { ipStrategy: { ...strategy } } : {}),
      },
    });
  }

  if (cfg['enable-cors'] === true)
    add('cors', {
      headers: {
        accessControlAllowCredentials: cfg['cors-allow-credentials'] ?? true,
        accessControlExposeHeaders: [...(cfg['cors-expose-headers'] ?? [])],
        accessControlAllowHeaders: [...(cfg['cors-allow-headers'] ?? CORS_ALLOW_HEADERS)],
        accessControlAllowMethods: [
          ...(cfg['cors-allow-methods'] ?? ['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS']),
        ],
        accessControlAllowOriginList: [...(cfg['cors-allow-origin'] ?? ['*'])],
        accessControlMaxAge: cfg['cors-max-age'] ?? 1728000,
      },
    });

  // rewrite-target: Traefik v3.7's RewriteTarget middleware (buildRewriteTarget) on the rule's
  // path (the middleware makes it case-insensitive, as ingress-nginx's location); x-forwarded-prefix
  // (its `$n` from the same match) only with it, when it has ingress-nginx's form.
  const rewrite = cfg['rewrite-target'] ?? '';
  if (rewrite !== '' && rewrite !== rulePath && rulePath !== '') {
    let xForwardedPrefix = '';
    const prefix = cfg['x-forwarded-prefix'];
    if (prefix !== undefined) {
      if (PREFIX_VALUE.test(prefix)) xForwardedPrefix = prefix;
      else b.warn(ctx.where, `invalid x-forwarded-prefix value "${prefix}": ignored`);
    }
    add('rewrite-target', {
      rewriteTarget: { regex: rulePath, replacement: rewrite, xForwardedPrefix },
    });
  }

  if (cfg['upstream-vhost'] !== undefined && cfg['upstream-vhost'] !== '') {
    // Traefik's buildUpstreamVhost: an UpstreamVhost middleware, its nginx variables replaced at
    // each request, the location's own ($namespace…) given as vars.
    const vars: Record<string, string> = {
      $namespace: ctx.ns,
      $ingress_name: ctx.ingress,
      $location_path: rulePath,
      $service_name: backend.service?.name ?? '',
      $service_port: String(backend.service?.port?.name || (backend.service?.port?.number ?? '')),
    };
    add('vhost', { upstreamVhost: { vhost: cfg['upstream-vhost'], vars } });
  }

  // limit-burst-multiplier: below 1 is ingress-nginx's 5 (Traefik's getLimitBurstMultiplier).
  const m = cfg['limit-burst-multiplier'] ?? BURST_MULTIPLIER;
  const burst = m < 1 ? BURST_MULTIPLIER : m;
  const rpm = cfg['limit-rpm'] ?? 0;
  if (rpm > 0) add('limit-rpm', { rateLimit: { average: rpm, period: '1m', burst: rpm * burst } });
  const rps = cfg['limit-rps'] ?? 0;
  if (rps > 0) add('limit-rps', { rateLimit: { average: rps, period: '1s', burst: rps * burst } });
  // limit-connections: requests in flight per client address (Traefik's translate: inFlightReq).
  const connections = cfg['limit-connections'] ?? 0;
  if (connections > 0)
    add('limit-connections', { inFlightReq: { amount: connections, sourceCriterion: { ipStrategy: {} } } });

  // auth-tls-pass-certificate-to-upstream (with auth-tls-secret), on the HTTPS routers: Traefik
  // v3.7's AuthTLSPassCertificateToUpstream (middleware.go buildAuthTLSPassCert), with the
  // secret's ca.crt when the middleware verifies itself (auth-tls-verify-client: optional_no_ca).
  if (
    cfg['auth-tls-pass-certificate-to-upstream'] === true &&
    cfg['auth-tls-secret'] !== undefined &&
    rt['tls'] !== undefined
  ) {
    const clientAuthType =
      { off: 'NoClientCert', optional: 'VerifyClientCertIfGiven', optional_no_ca: 'RequestClientCert' }[
        cfg['auth-tls-verify-client'] ?? 'on'
      ] ?? 'RequireAndVerifyClientCert';
    const caFiles: string[] = [];
    if (clientAuthType === 'RequestClientCert') {
      const ref = cfg['auth-tls-secret'];
      const i = ref.indexOf('/');
      const sns = i < 0 ? '' : ref.slice(0, i);
      const sname = i < 0 ? '' : ref.slice(i + 1);
      if (sns !== '' && sname !== '' && (ctx.opts.allowCrossNamespaceResources || sns === ctx.ns)) {
        const ca = b.secretValue(sns, sname, 'ca.crt');
        if (ca !== undefined && ca !== '') caFiles.push(ca);
      }
    }
    add('pass-certificate-to-upstream', { authTLSPassCertificateToUpstream: { clientAuthType, caFiles } });
  }

  const headers = cfg['custom-headers'] ?? '';
  if (headers !== '') {
    const h = customHeaders(ctx, headers);
    if (typeof h === 'string') return fail(h);
    add('custom-headers', { headers: { customResponseHeaders: h } });
  }

  // server-snippet, configuration-snippet (allowSnippetAnnotations, else the Ingress was refused)
  // and auth-url: Traefik's buildSnippetAuth, one Snippet middleware interpreting the snippets'
  // directives at each request (pkg/middlewares/ingressnginx/snippet) and asking auth-url (else
  // the provider's globalAuthURL unless enable-global-auth is false) after their access phase,
  // its nginx variables replaced per request, with auth-method, auth-signin, auth-response-headers
  // and auth-snippet. A snippet it cannot interpret fails that middleware's build, which leaves
  // the router out, as in Traefik.
  const serverSnippet = ctx.serverSnippets.get(ruleHost) ?? '';
  const configurationSnippet = cfg['configuration-snippet'] ?? '';
  let authURL = cfg['auth-url'] ?? '';
  if (authURL === '' && ctx.opts.globalAuthURL !== '' && cfg['enable-global-auth'] !== false)
    authURL = ctx.opts.globalAuthURL;
  if (serverSnippet !== '' || configurationSnippet !== '' || authURL !== '') {
    const snippet: Obj = { serverSnippet, configurationSnippet };
    if (authURL !== '')
      snippet['auth'] = {
        address: authURL,
        authSigninURL: cfg['auth-signin'] ?? '',
        method: cfg['auth-method'] ?? '',
        snippet: cfg['auth-snippet'] ?? '',
        authResponseHeaders: (cfg['auth-response-headers'] ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      };
    add('snippet', { snippet });
  }

  const retry = retryMiddleware(ctx, rt);
  if (retry !== undefined) add('retry', { retry });

  if (
    cfg['enable-modsecurity'] === true ||
    cfg['enable-owasp-core-rules'] === true ||
    (cfg['modsecurity-snippet'] ?? '') !== '' ||
    (cfg['modsecurity-transaction-id'] ?? '') !== ''
  )
    return fail('mod-security annotations are not supported');

  if (mws.length > 0) rt['middlewares'] = [...((rt['middlewares'] as string[] | undefined) ?? []), ...mws];
  return true;
}

/**
 * Traefik's buildSSLRedirect and applyMiddlewares, on the HTTP router only: with
 * `force-ssl-redirect`, or a TLS section and `ssl-redirect` (default true; without a TLS section
 * it does nothing), the router's first middleware redirects to https.
 */
export function sslRedirect(b: KubeBuild, key: string, cfg: NginxConfig, hasTLS: boolean, rt: Obj): void {
  if (!(cfg['force-ssl-redirect'] ?? false) && !(hasTLS && (cfg['ssl-redirect'] ?? true))) return;
  const name = `${key}-redirect-scheme`;
  b.middlewares[name] = { redirectScheme: { scheme: 'https', forcePermanentRedirect: true } };
  b.source('http/middlewares', name, `router ${key}`);
  rt['middlewares'] = [name, ...((rt['middlewares'] as string[] | undefined) ?? [])];
}

/**
 * Traefik's applyFromToWwwRedirect: a router for the other name (www. or not) that only
 * redirects here (308), its service `unavailable-service` as it must
 * never reach the backend without the location's middlewares.
 */
function fromToWww(ctx: NginxMiddlewareContext, routerKey: string, host: string, rt: Obj): void {
  const www = host.startsWith('www.');
  const bare = host.slice(4);
  if ((www && ctx.hosts.has(bare)) || (!www && ctx.hosts.has(`www.${host}`)) || host.startsWith('*.')) return;
  const other = www ? bare : `www.${host}`;
  const mw = `${routerKey}-from-to-www-redirect`;
  ctx.b.middlewares[mw] = {
    redirectRegex: {
      // Anchored, the trailing slash dropped (ingress-nginx's ngx_srv_redirect.lua), as Traefik.
      regex: '^(https?)://(?:\\[[^/\\]]*\\]|[^/:]+)(:[0-9]+)?[^/]*/(.*?)/?$',
      replacement: `$1://${host}$2/$3`,
      statusCode: 308,
    },
  };
  const r: Obj = {
    rule: `Host(${JSON.stringify(other)})`,
    ruleSyntax: 'default',
    middlewares: [mw],
    service: UNAVAILABLE,
  };
  if (rt['entryPoints'] !== undefined) r['entryPoints'] = rt['entryPoints'];
  if (rt['priority'] !== undefined) r['priority'] = rt['priority'];
  if (rt['tls'] !== undefined) r['tls'] = rt['tls'];
  ctx.b.services[UNAVAILABLE] ??= { loadBalancer: { servers: [] } };
  ctx.b.routers[mw] = r;
  ctx.b.source('http/routers', mw, ctx.where);
}

/** Traefik's applyBasicAuthConfiguration: basicAuth or digestAuth with the users of `auth-secret`. */
function authMiddleware(ctx: NginxMiddlewareContext): [string, Obj] | string {
  const { b, cfg, ns } = ctx;
  const type = cfg['auth-type'];
  if (type !== 'basic' && type !== 'digest')
    return `invalid auth-type "${type}", must be 'basic' or 'digest'`;
  const ref = cfg['auth-secret'] ?? '';
  if (ref === '') return 'invalid auth-secret "", must not be empty';
  const parts = ref.split('/');
  if (parts.length > 2) return `invalid auth secret "${ref}"`;
  const [sns, sname] = parts.length === 2 ? (parts as [string, string]) : [ns, parts[0]!];
  if (!ctx.opts.allowCrossNamespaceResources && sns !== ns)
    return `cross-namespace auth secret is not allowed: secret ${sns}/${sname} is not from ingress namespace "${ns}"`;
  const secret = b.secret(sns, sname) as { data?: Record<string, string> } | undefined;
  if (secret === undefined) return `getting secret ${ref}: not found`;
  const secretType = cfg['auth-secret-type'] ?? 'auth-file';
  let users: string[];
  if (secretType === 'auth-map') {
    const entries = Object.entries(secret.data ?? {});
    if (entries.length === 0) return `secret ${sns}/${sname} does not contain any user credentials`;
    users = entries.map(([u, p]) => `${u}:${Buffer.from(p, 'base64').toString('utf8')}`);
  } else if (secretType === 'auth-file') {
    const file = b.secretValue(sns, sname, 'auth');
    if (file === undefined) return `secret ${sns}/${sname} does not contain auth-file content key \`auth\``;
    users = file
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
  } else return `invalid auth-secret-type "${secretType}", must be 'auth-file' or 'auth-map'`;
  const realm = cfg['auth-realm'] ?? '';
  const conf: Obj = { users, removeHeader: false, ...(realm !== '' ? { realm } : {}) };
  return type === 'basic' ? ['basic-auth', { basicAuth: conf }] : ['digest-auth', { digestAuth: conf }];
}

/**
 * Traefik's buildBuffering: request buffering is on whenever a body size limit applies
 * (`proxy-body-size`, else the provider's `proxyBodySize`, 1 MiB: nginx's client_max_body_size,
 * enforced whatever proxy_request_buffering says), response buffering with `proxy-buffering: on`
 * (or `proxyBuffering`); nothing when both are off. An invalid size keeps the default (warned).
 */
function bufferingMiddleware(ctx: NginxMiddlewareContext): Obj | undefined {
  const { cfg, opts } = ctx;
  const size = (
    k: 'client-body-buffer-size' | 'proxy-body-size' | 'proxy-buffer-size' | 'proxy-max-temp-file-size',
    fallback: number,
  ): number => {
    const v = cfg[k];
    if (v === undefined || v === '') return fallback;
    const n = nginxSize(v);
    if (n === undefined) ctx.b.warn(ctx.where, `${k} invalid ("${v}"), using the default`);
    return n ?? fallback;
  };
  let reqOff =
    cfg['proxy-request-buffering'] !== undefined
      ? cfg['proxy-request-buffering'] !== 'on'
      : !opts.proxyRequestBuffering;
  const resOff =
    cfg['proxy-buffering'] !== undefined ? cfg['proxy-buffering'] !== 'on' : !opts.proxyBuffering;
  const max = size('proxy-body-size', opts.proxyBodySize);
  if (max > 0) reqOff = false;
  if (reqOff && resOff) return undefined;
  const out: Obj = {
    disableRequestBuffer: reqOff,
    disableResponseBuffer: resOff,
    memRequestBodyBytes: reqOff
      ? opts.clientBodyBufferSize
      : size('client-body-buffer-size', opts.clientBodyBufferSize),
    maxRequestBodyBytes: max,
    memResponseBodyBytes: opts.proxyBufferSize * opts.proxyBuffersNumber,
  };
  if (!resOff) {
    if (cfg['proxy-buffer-size'] !== undefined || cfg['proxy-buffers-number'] !== undefined)
      out['memResponseBodyBytes'] =
        size('proxy-buffer-size', opts.proxyBufferSize) *
        (cfg['proxy-buffers-number'] ?? opts.proxyBuffersNumber);
    out['maxResponseBodyBytes'] =
      (out['memResponseBodyBytes'] as number) + size('proxy-max-temp-file-size', 1024 ** 3);
  }
  return out;
}

/** Traefik's applyCustomHeaders: the ConfigMap `namespace/name`'s entries as response headers. */
function customHeaders(ctx: NginxMiddlewareContext, ref: string): Record<string, string> | string {
  const parts = ref.split('/');
  if (parts.length !== 2) return `invalid custom headers config map "${ref}"`;
  // Traefik's resolveCustomHeaders (build.go, #12680): another namespace's ConfigMap only with
  // allowCrossNamespaceResources.
  if (!ctx.opts.allowCrossNamespaceResources && parts[0] !== ctx.ns)
    return `cross-namespace custom-headers is not allowed: configMap ${ref} is not from ingress namespace "${ctx.ns}"`;
  const cm = ctx.configMaps.get(ref) as { data?: Record<string, string> } | undefined;
  if (cm === undefined) return `getting configMap ${ref}: not found`;
  const allowed = ctx.opts.globalAllowedResponseHeaders.filter((h) => HEADER_NAME.test(h));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(cm.data ?? {})) {
    if (!allowed.includes(k)) return `header "${k}" is not allowed in the GlobalAllowedResponseHeaders list`;
    if (!HEADER_VALUE.test(v)) return `invalid value for custom header "${k}": "${v}"`;
    out[k] = v;
  }
  return out;
}

/** Traefik's applyRetry: proxy-next-upstream(-tries, -timeout) as a retry middleware. */
function retryMiddleware(ctx: NginxMiddlewareContext, rt: Obj): Obj | undefined {
  const { cfg, opts } = ctx;
  let attempts = cfg['proxy-next-upstream-tries'] ?? opts.proxyNextUpstreamTries;
  if (attempts < 0) return undefined;
  const conditions = (cfg['proxy-next-upstream'] ?? opts.proxyNextUpstream)
    .split(/\s+/)
    .filter((s) => s !== '');
  if (conditions.length === 0 || conditions.includes('off')) return undefined;
  if (attempts === 0) {
    // ingress-nginx's 0 is unlimited: every server once.
    const lb = (
      ctx.b.services[String(rt['service'])] as { loadBalancer?: { servers?: unknown[] } } | undefined
    )?.loadBalancer;
    if (lb === undefined) return undefined;
    attempts = lb.servers?.length ?? 0;
    if (attempts === 0) return undefined;
  }
  const retry: Obj = { attempts };
  if (!conditions.includes('error') && !conditions.includes('timeout'))
    retry['disableRetryOnNetworkError'] = true;
  const status = conditions.filter((c) => c.startsWith('http_')).map((c) => c.slice(5));
  if (status.length > 0) retry['status'] = status;
  if (conditions.includes('non_idempotent')) retry['retryNonIdempotentMethod'] = true;
  const timeout = cfg['proxy-next-upstream-timeout'] ?? opts.proxyNextUpstreamTimeout;
  if (timeout > 0) retry['timeout'] = `${timeout}s`;
  return retry;
}
