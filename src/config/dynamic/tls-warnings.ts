import { type ConfigIssue, type ConfigPath, issue } from '../issues.ts';
import { DEFAULT_TLS_NAME } from './sections.ts';
import type { TlsSectionConfig } from './tls.ts';

/**
 * What Traefik accepts but ignores, reported as warnings (`path` from the section's root, e.g.
 * `['tls', 'stores', 'other']`): stores other than `default`, certificates only in such stores,
 * and `preferServerCipherSuites` whatever its value (Traefik's tlsmanager.go UpdateConfigs warns
 * whenever it is set: deprecated and ineffective). Zod-free, for validate.ts.
 */
export function tlsSectionWarnings(tls: TlsSectionConfig, root: ConfigPath = ['tls']): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const name of Object.keys(tls.stores)) {
    if (name !== DEFAULT_TLS_NAME) {
      out.push(
        issue('warning', `TLS store \`${name}\` is ignored: only the \`default\` store is used`, [
          ...root,
          'stores',
          name,
        ]),
      );
    }
  }
  tls.certificates.forEach((c, i) => {
    const others = (c.stores ?? []).filter((s) => s !== DEFAULT_TLS_NAME);
    if (others.length > 0 && others.length === c.stores?.length) {
      out.push(
        issue(
          'warning',
          `certificate is only in store(s) ${others.join(', ')}, which are ignored: it will not be served`,
          [...root, 'certificates', i, 'stores'],
        ),
      );
    }
  });
  for (const [name, o] of Object.entries(tls.options)) {
    if (o.preferServerCipherSuites !== undefined) {
      out.push(
        issue(
          'warning',
          'preferServerCipherSuites is deprecated and has no effect (the server order is always used): remove it',
          [...root, 'options', name, 'preferServerCipherSuites'],
        ),
      );
    }
  }
  return out;
}
