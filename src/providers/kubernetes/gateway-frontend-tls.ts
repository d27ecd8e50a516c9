/*
 * A Gateway's client certificate validation (Gateway API v1.5 Standard, GEP-91:
 * `spec.tls.frontend`), as Traefik's gateway provider maps it (traefik/traefik#13499): the
 * validation of each HTTPS listener's port (`perPort`, else `default`) becomes TLS options with
 * `clientAuth`, which the listener's parent routers take (gateway-isolation.ts).
 */
import type { Attach } from './gateway-listeners.ts';
import { type Condition, condition } from './gateway-status.ts';
import type { KubeObject } from './informer.ts';
import { type KubeBuild, normalize, type Obj } from './kube-build.ts';
import type { ReferenceGrants } from './reference-grants.ts';

interface CaRef {
  readonly group?: string;
  readonly kind?: string;
  readonly name?: string;
  readonly namespace?: string;
}

interface Validation {
  readonly caCertificateRefs?: readonly CaRef[];
  readonly mode?: string;
}

interface FrontendSpec {
  readonly default?: { readonly validation?: Validation | null } | null;
  readonly perPort?: readonly {
    readonly port?: number;
    readonly tls?: { readonly validation?: Validation | null };
  }[];
}

/** Gateway API's FrontendValidationModeType values and the client authentication each asks. */
const MODES: Readonly<Record<string, string>> = {
  // A valid certificate is required.
  AllowValidOnly: 'RequireAndVerifyClientCert',
  // A connection without a certificate, or with one that does not verify, is let through.
  AllowInsecureFallback: 'RequestClientCert',
};

/** What the frontend validation makes of a Gateway's listeners. */
export interface FrontendTls {
  /** The listeners, those whose CAs all failed no longer attached, conditions updated. */
  readonly listeners: Attach[];
  /** A listener with `AllowInsecureFallback` (the Gateway's InsecureFrontendValidationMode). */
  readonly insecure: boolean;
}

/**
 * The Gateway's `spec.tls.frontend` over its listeners `mine`: an HTTPS listener (TLS mode
 * `Terminate`) takes the validation of its port's `perPort` entry (none if the entry has none),
 * else `default`; its
 * `caCertificateRefs` are ConfigMaps or Secrets (core group) with a `ca.crt`, in another namespace
 * only with a ReferenceGrant there (from `Gateway` to the kind). The CAs found become the
 * listener's `frontendTls`, options keyed `<ns>-<gateway>-<port>-frontend` (`clientAuth`:
 * `RequireAndVerifyClientCert` for `AllowValidOnly`, the default, `RequestClientCert` for
 * `AllowInsecureFallback`) that its listener routers take (gateway-isolation.ts). A ref that cannot be used sets the listener's `ResolvedRefs=False`
 * (`InvalidCACertificateKind`, `RefNotPermitted`, `InvalidCACertificateRef`); with none usable, the
 * listener is `Accepted=False`, `NoValidCACertificate`, and not routed (its clients could not be
 * verified).
 */
export function frontendTls(
  b: KubeBuild,
  grants: ReferenceGrants,
  gw: KubeObject,
  mine: readonly Attach[],
  configMaps: ReadonlyMap<string, KubeObject>,
): FrontendTls {
  const frontend = (gw.spec as { tls?: { frontend?: FrontendSpec | null } | null } | undefined)?.tls
    ?.frontend;
  if (frontend === undefined || frontend === null) return { listeners: [...mine], insecure: false };
  const ns = gw.metadata.namespace ?? 'default';
  const where = `gateway ${ns}/${gw.metadata.name}`;
  let insecure = false;
  const out: Attach[] = [];
  // The options of each port, built once (listeners of one port share their validation).
  const byPort = new Map<number, PortValidation>();
  for (const a of mine) {
    const l = a.listener;
    if (
      l.protocol !== 'HTTPS' ||
      (l.tls?.mode ?? 'Terminate') !== 'Terminate' ||
      a.entryPoint === undefined
    ) {
      out.push(a);
      continue;
    }
    // A port's entry overrides the default, even to validate nothing (Gateway API's PerPort).
    const own = (frontend.perPort ?? []).find((p) => p.port === l.port);
    const validation = own !== undefined ? own.tls?.validation : frontend.default?.validation;
    const refs = validation?.caCertificateRefs ?? [];
    if (validation === undefined || validation === null || refs.length === 0) {
      out.push(a);
      continue;
    }
    const mode = validation.mode ?? 'AllowValidOnly';
    if (mode === 'AllowInsecureFallback') insecure = true;
    let got = byPort.get(l.port);
    if (got === undefined) {
      got = portOptions(
        b,
        grants,
        gw,
        ns,
        where,
        l.port,
        refs,
        MODES[mode] ?? MODES['AllowValidOnly']!,
        configMaps,
      );
      byPort.set(l.port, got);
    }
    const conditions = [...a.status.conditions];
    // A listener that failed already (its certificate…) keeps the reason it failed for.
    for (const c of got.problems)
      if (conditions.find((x) => x.type === c.type)?.status !== 'False') replace(conditions, c);
    if (got.none) {
      replace(
        conditions,
        condition(gw, 'Accepted', false, 'NoValidCACertificate', 'No valid CA certificate'),
      );
      replace(conditions, condition(gw, 'Programmed', false, 'Invalid', 'Listener is not valid'));
    }
    // TLS options go by the SNI of their router's Host names (docs/tls.md), and the parent router
    // of a listener without a hostname has none (listener isolation): its clients would not be
    // asked for a certificate.
    if (got.tls !== undefined && (l.hostname ?? '') === '')
      b.warn(
        where,
        `listener ${l.name}: client certificate validation applies to the listener's hostname, and it has none: its clients are not asked for a certificate`,
      );
    out.push({
      ...a,
      attached: a.attached && !got.none,
      ...(got.tls !== undefined ? { frontendTls: got.tls } : {}),
      status: { ...a.status, conditions },
    });
  }
  return { listeners: out, insecure };
}

/** A port's validation: the options its listeners take (none when no CA could be used). */
interface PortValidation {
  readonly tls: { readonly key: string; readonly options: Obj } | undefined;
  readonly problems: Condition[];
  readonly none: boolean;
}

function portOptions(
  b: KubeBuild,
  grants: ReferenceGrants,
  gw: KubeObject,
  ns: string,
  where: string,
  port: number,
  refs: readonly CaRef[],
  clientAuthType: string,
  configMaps: ReadonlyMap<string, KubeObject>,
): PortValidation {
  const cas: string[] = [];
  const problems: Condition[] = [];
  const fail = (reason: string, message: string): void => {
    b.error(where, `frontend TLS validation of port ${port}: ${message}`);
    if (problems.length === 0) problems.push(condition(gw, 'ResolvedRefs', false, reason, message));
  };
  for (const ref of refs) {
    const kind = ref.kind ?? 'ConfigMap';
    const group = ref.group ?? '';
    const name = ref.name ?? '';
    const to = ref.namespace ?? ns;
    if ((group !== '' && group !== 'core') || (kind !== 'ConfigMap' && kind !== 'Secret')) {
      fail('InvalidCACertificateKind', `Unsupported CA certificate ref kind ${group}/${kind}`);
      continue;
    }
    const allowed = grants.allows({
      fromKind: 'Gateway',
      fromNamespace: ns,
      toGroup: '',
      toKind: kind,
      toName: name,
      toNamespace: to,
    });
    if (!allowed) {
      fail('RefNotPermitted', `Cannot load CA certificate ${kind} ${to}/${name}: missing ReferenceGrant`);
      continue;
    }
    let ca: string | undefined;
    if (kind === 'ConfigMap') {
      const cm = configMaps.get(`${to}/${name}`) as { data?: Record<string, string> } | undefined;
      if (cm === undefined) {
        fail('InvalidCACertificateRef', `Cannot load CA certificate: configmap ${to}/${name} not found`);
        continue;
      }
      ca = cm.data?.['ca.crt'];
    } else {
      if (b.secret(to, name) === undefined) {
        fail('InvalidCACertificateRef', `Cannot load CA certificate: secret ${to}/${name} not found`);
        continue;
      }
      ca = b.secretValue(to, name, 'ca.crt');
    }
    if (ca === undefined || !ca.includes('-----BEGIN CERTIFICATE-----')) {
      fail('InvalidCACertificateRef', `${kind} ${to}/${name} does not have a PEM certificate in ca.crt`);
      continue;
    }
    cas.push(ca);
  }
  if (cas.length === 0) return { tls: undefined, problems, none: true };
  const key = normalize(`${ns}-${gw.metadata.name}-${port}-frontend`);
  return { tls: { key, options: { clientAuth: { caFiles: cas, clientAuthType } } }, problems, none: false };
}

/** Puts `c` in place of the condition of its type (or at the end). */
function replace(conditions: Condition[], c: Condition): void {
  const i = conditions.findIndex((x) => x.type === c.type);
  if (i < 0) conditions.push(c);
  else conditions[i] = c;
}
