import { createHash } from 'node:crypto';
import { checkedLoadBalancer } from './crd-services.ts';
import type { KubeObject } from './informer.ts';
import { type KubeBuild, normalize, type Obj, type ServiceRef } from './kube-build.ts';

/**
 * Middleware objects (`traefik.io/v1alpha1`), named `<ns>-<name>`, as Traefik's CRD provider builds
 * them (pkg/provider/kubernetes/crd/kubernetes.go loadConfigurationFromCRD): the spec is the
 * middleware, except for what the CRD names by Kubernetes object instead of by value:
 *
 * - `basicAuth.secret` / `digestAuth.secret`: the users, one per line of the Secret's only data
 *   entry (createBasicAuthMiddleware, loadAuthCredentials); a `kubernetes.io/basic-auth` Secret
 *   gives one user `username:{SHA}<base64 sha1(password)>` (loadBasicAuthCredentials);
 * - `forwardAuth.tls.caSecret` / `certSecret` and `rateLimit.redis.tls.caSecret` / `certSecret`:
 *   the CA (`tls.ca`, `ca.crt`, or a Secret's only entry: loadCASecret) and the client certificate
 *   (`tls.crt`, `tls.key`); `rateLimit.redis.secret`: its `username` and `password`;
 * - `errors.service`: a Kubernetes Service (a load balancer spec, as a route's) built as the
 *   service `<ns>-<name>-errorpage-service` (createErrorPageMiddleware);
 * - `plugin`: any string `urn:k8s:secret:<secret>:<key>` is that key of that Secret
 *   (createPluginMiddleware, loadSecretKeys);
 * - `chain.middlewares`: references (`<ns>-<name>`, or a name with `@` as it is); with
 *   allowCrossNamespace off, one in another namespace rejects the chain (Traefik v3.6.14).
 *
 * A middleware whose Secret or Service cannot be used is reported and left out, as Traefik does.
 */
export function crdMiddlewares(b: KubeBuild, middlewares: readonly KubeObject[]): void {
  for (const mw of middlewares) {
    const ns = mw.metadata.namespace ?? 'default';
    const where = `middleware ${ns}/${mw.metadata.name}`;
    const name = normalize(`${ns}-${mw.metadata.name}`);
    const spec = middlewareSpec(b, ns, name, (mw.spec ?? {}) as Obj, where);
    if (spec === undefined) continue;
    b.middlewares[name] = spec;
    b.source('http/middlewares', name, where);
  }
}

function middlewareSpec(b: KubeBuild, ns: string, id: string, raw: Obj, where: string): Obj | undefined {
  const spec = { ...raw };
  const chain = spec['chain'] as { middlewares?: { name?: string; namespace?: string }[] } | undefined;
  if (chain !== undefined && chain !== null) {
    // Traefik v3.6.14: a Chain honours allowCrossNamespace. With it off, a Chain naming a
    // middleware of another namespace is rejected whole (an error), as an IngressRoute's
    // reference would be; `<ns>-<name>@kubernetescrd` could name any namespace, so it is refused
    // too (makeMiddlewareKeys' rule for routes). Another provider's `x@p` is taken as it is.
    const refs: string[] = [];
    for (const m of chain.middlewares ?? []) {
      const mname = m.name ?? '';
      // Traefik's createChainMiddleware (resolveReference): crossProviderNamespaces is checked
      // against the Middleware's own namespace.
      if (b.crossProvider(where, `chain: middleware ${mname}`, mname, ns)) return undefined;
      const mns = m.namespace !== undefined && m.namespace !== '' ? m.namespace : ns;
      if (!mname.includes('@') && b.crossNamespace(where, `chain: middleware ${mns}/${mname}`, mns, ns))
        return undefined;
      refs.push(b.ref(mname, mns));
    }
    spec['chain'] = { middlewares: refs };
  }
  for (const kind of ['basicAuth', 'digestAuth'] as const) {
    const auth = spec[kind] as Obj | undefined;
    if (auth === undefined || auth === null) continue;
    const users = authUsers(b, ns, auth['secret'], kind === 'basicAuth', where, kind);
    if (users === undefined) return undefined;
    const { secret: _, ...rest } = auth;
    spec[kind] = { ...rest, users };
  }
  const fwd = spec['forwardAuth'] as Obj | undefined;
  if (fwd !== undefined && fwd !== null && fwd['tls'] !== undefined && fwd['tls'] !== null) {
    const tls = clientTls(b, ns, fwd['tls'] as Obj, where, 'forwardAuth');
    if (tls === undefined) return undefined;
    spec['forwardAuth'] = { ...fwd, tls };
  }
  const rl = spec['rateLimit'] as Obj | undefined;
  const redis = rl?.['redis'] as Obj | undefined;
  if (rl !== undefined && redis !== undefined && redis !== null) {
    const out: Obj = { ...redis };
    if (redis['tls'] !== undefined && redis['tls'] !== null) {
      const tls = clientTls(b, ns, redis['tls'] as Obj, where, 'rateLimit.redis');
      if (tls === undefined) return undefined;
      out['tls'] = tls;
    }
    delete out['secret'];
    if (typeof redis['secret'] === 'string' && redis['secret'] !== '') {
      const s = redis['secret'];
      const username = b.secretValue(ns, s, 'username');
      const password = b.secretValue(ns, s, 'password');
      if (username === undefined || password === undefined)
        return b.error(
          where,
          `rateLimit.redis: secret ${ns}/${s} must contain both username and password keys`,
        );
      out['username'] = username;
      out['password'] = password;
    }
    spec['rateLimit'] = { ...rl, redis: out };
  }
  const errors = spec['errors'] as Obj | undefined;
  if (errors !== undefined && errors !== null && errors['service'] !== undefined) {
    const svc = errors['service'];
    if (typeof svc !== 'object' || svc === null)
      return b.error(where, 'errors.service must name a Kubernetes Service (name, port)');
    const serviceName = `${id}-errorpage-service`;
    // Traefik's createErrorPageMiddleware: buildServersLB, with its checks.
    const ref = svc as ServiceRef;
    // Traefik's createErrorPageMiddleware (nameAndService): a name with `@` is checked as any
    // cross-provider reference, from the Middleware's namespace.
    if (ref.name !== undefined && b.crossProvider(where, `errors.service ${ref.name}`, ref.name, ns))
      return undefined;
    const checked = checkedLoadBalancer(b, ref, where);
    if (checked === undefined) return undefined;
    const built = b.loadBalancer(checked, ns, where, serviceName);
    if (built === undefined) return undefined;
    spec['errors'] = { ...errors, service: serviceName };
  }
  if (spec['plugin'] !== undefined && spec['plugin'] !== null) {
    const resolved = { ok: true };
    spec['plugin'] = secretUrns(b, ns, spec['plugin'], where, resolved);
    if (!resolved.ok) return undefined;
  }
  return spec;
}

/** The users of basicAuth/digestAuth from a Secret (Traefik's createBasicAuthMiddleware). */
function authUsers(
  b: KubeBuild,
  ns: string,
  secret: unknown,
  basic: boolean,
  where: string,
  kind: string,
): string[] | undefined {
  if (typeof secret !== 'string' || secret === '') return b.error(where, `${kind}: auth secret must be set`);
  const obj = b.secret(ns, secret) as
    | (KubeObject & { type?: string; data?: Record<string, string> })
    | undefined;
  if (obj === undefined) return b.error(where, `${kind}: secret ${ns}/${secret} not found`);
  const data = obj.data ?? {};
  if (basic && obj.type === 'kubernetes.io/basic-auth') {
    const user = data['username'];
    const pass = data['password'];
    if (user === undefined || pass === undefined)
      return b.error(where, `${kind}: secret ${ns}/${secret} must contain both username and password keys`);
    const sum = createHash('sha1').update(Buffer.from(pass, 'base64')).digest('base64');
    return [`${Buffer.from(user, 'base64').toString('utf8')}:{SHA}${sum}`];
  }
  const values = Object.values(data);
  if (values.length !== 1)
    return b.error(
      where,
      `${kind}: found ${values.length} elements for secret ${ns}/${secret}, must be single element exactly`,
    );
  const users = Buffer.from(values[0]!, 'base64')
    .toString('utf8')
    .split(/\r?\n/)
    .filter((l) => l !== '');
  if (users.length === 0)
    return b.error(where, `${kind}: secret ${ns}/${secret} does not contain any credentials`);
  return users;
}

/** A ClientTLS of the CRD (`caSecret`, `certSecret`) as the middleware's (`ca`, `cert`, `key`). */
function clientTls(b: KubeBuild, ns: string, tls: Obj, where: string, what: string): Obj | undefined {
  const { caSecret, certSecret, ...out } = tls;
  if (typeof caSecret === 'string' && caSecret !== '') {
    const ca = b.ca(ns, caSecret, `${where}: ${what}`, true);
    if (ca === undefined) return undefined;
    out['ca'] = ca;
  }
  if (typeof certSecret === 'string' && certSecret !== '') {
    const c = b.certificate(ns, certSecret, `${where}: ${what}`);
    if (c === undefined) return undefined;
    out['cert'] = c.certFile;
    out['key'] = c.keyFile;
  }
  return out;
}

/** Strings `urn:k8s:secret:<name>:<key>` anywhere in a plugin's configuration, resolved. */
function secretUrns(b: KubeBuild, ns: string, v: unknown, where: string, state: { ok: boolean }): unknown {
  if (typeof v === 'string') {
    if (!v.startsWith('urn:k8s:secret:')) return v;
    const parts = v.split(':');
    if (parts.length !== 5) {
      state.ok = false;
      return b.error(where, `plugin: malformed secret URN ${JSON.stringify(v)}`);
    }
    const [, , , name, key] = parts as [string, string, string, string, string];
    if (b.secret(ns, name) === undefined) {
      state.ok = false;
      return b.error(where, `plugin: secret ${ns}/${name} is not found`);
    }
    const value = b.secretValue(ns, name, key);
    if (value === undefined) {
      state.ok = false;
      return b.error(where, `plugin: key ${JSON.stringify(key)} not found in secret ${ns}/${name}`);
    }
    return value;
  }
  if (Array.isArray(v)) return v.map((x) => secretUrns(b, ns, x, where, state));
  if (typeof v === 'object' && v !== null)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, secretUrns(b, ns, x, where, state)]));
  return v;
}
