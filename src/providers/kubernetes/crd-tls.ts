import type { KubeObject } from './informer.ts';
import { type KubeBuild, normalize, type Obj } from './kube-build.ts';

const DEFAULT = 'default';

/**
 * TLSOption and TLSStore objects (Traefik's kubernetes.go buildTLSOptions, buildTLSStores): named
 * `<ns>-<name>`, except `default`, which replaces the global default; `default` in two
 * namespaces is an error and neither is kept. A TLSOption's `clientAuth.secretNames` become
 * its CA files (PEM); a TLSStore's `defaultCertificate` and `certificates` come from TLS secrets.
 */
export function crdTls(b: KubeBuild, options: readonly KubeObject[], stores: readonly KubeObject[]): void {
  const defaults = (list: readonly KubeObject[]) => list.filter((o) => o.metadata.name === DEFAULT);
  for (const o of options) {
    const ns = o.metadata.namespace ?? 'default';
    const where = `tlsoption ${ns}/${o.metadata.name}`;
    if (o.metadata.name === DEFAULT && defaults(options).length > 1) {
      b.error(where, 'a TLSOption named default exists in several namespaces: none is used');
      continue;
    }
    const id = o.metadata.name === DEFAULT ? DEFAULT : normalize(`${ns}-${o.metadata.name}`);
    const spec = { ...((o.spec ?? {}) as Obj) };
    const auth = spec['clientAuth'] as { secretNames?: string[]; clientAuthType?: string } | undefined;
    if (auth !== undefined) {
      const caFiles: string[] = [];
      let ok = true;
      for (const s of auth.secretNames ?? []) {
        const pem = b.ca(ns, s, where);
        if (pem === undefined) ok = false;
        else caFiles.push(pem);
      }
      if (!ok) continue;
      spec['clientAuth'] = {
        ...(caFiles.length > 0 ? { caFiles } : {}),
        ...(auth.clientAuthType !== undefined ? { clientAuthType: auth.clientAuthType } : {}),
      };
    }
    b.tlsOptions[id] = spec;
    b.source('tls/options', id, where);
  }
  for (const o of stores) {
    const ns = o.metadata.namespace ?? 'default';
    const where = `tlsstore ${ns}/${o.metadata.name}`;
    if (o.metadata.name === DEFAULT && defaults(stores).length > 1) {
      b.error(where, 'a TLSStore named default exists in several namespaces: none is used');
      continue;
    }
    const id = o.metadata.name === DEFAULT ? DEFAULT : normalize(`${ns}-${o.metadata.name}`);
    const spec = (o.spec ?? {}) as {
      defaultCertificate?: { secretName?: string };
      certificates?: { secretName?: string }[];
      defaultGeneratedCert?: unknown;
    };
    const store: Obj = {};
    const dc = spec.defaultCertificate?.secretName;
    if (dc !== undefined) {
      const c = b.certificate(ns, dc, where);
      if (c === undefined) continue;
      store['defaultCertificate'] = c;
    }
    if (spec.defaultGeneratedCert !== undefined) store['defaultGeneratedCert'] = spec.defaultGeneratedCert;
    for (const c of spec.certificates ?? [])
      if (c.secretName !== undefined) b.addCertificate(ns, c.secretName, where, [id]);
    b.tlsStores[id] = store;
    b.source('tls/stores', id, where);
  }
}
