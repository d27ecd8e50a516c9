/*
 * ListenerSets (`gateway.networking.k8s.io/v1`, Standard since Gateway API v1.5, GEP-1713) as
 * Traefik v3.8 reads them (pkg/provider/kubernetes/gateway/kubernetes.go listenerSetRefsGateway,
 * isListenerSetAllowed, loadListenerSetListeners, makeListenerSetStatus): more listeners for a
 * Gateway that allows them (`spec.allowedListeners`), routed as its own, with their own status.
 */
import type { Attach, NamespaceScope } from './gateway-listeners.ts';
import { GROUP } from './gateway-listeners.ts';
import { type Condition, condition, type Obj } from './gateway-status.ts';
import type { KubeObject } from './informer.ts';
import { type LabelSelector, labelSelectorMatcher } from './label-selector.ts';

interface ListenerSetSpec {
  readonly parentRef?: { group?: string; kind?: string; name?: string; namespace?: string };
}

interface AllowedListeners {
  readonly namespaces?: { readonly from?: string; readonly selector?: LabelSelector | null } | null;
}

const ts = (o: KubeObject): string => (o.metadata as { creationTimestamp?: string }).creationTimestamp ?? '';
const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

/**
 * The ListenerSets whose `parentRef` is the Gateway `gw` (Traefik's listenerSetRefsGateway: group
 * and kind, when given, the Gateway API's and `Gateway`; the namespace the ListenerSet's unless
 * it names one), oldest first (creationTimestamp, namespace, name), as the oldest wins a listener
 * conflict with its siblings.
 */
export function listenerSetsOf(sets: readonly KubeObject[], gw: KubeObject): KubeObject[] {
  const gwNs = gw.metadata.namespace ?? 'default';
  return sets
    .filter((s) => {
      const ref = (s.spec as ListenerSetSpec | undefined)?.parentRef ?? {};
      if (ref.group !== undefined && ref.group !== GROUP) return false;
      if (ref.kind !== undefined && ref.kind !== 'Gateway') return false;
      return ref.name === gw.metadata.name && (ref.namespace ?? s.metadata.namespace ?? 'default') === gwNs;
    })
    .sort(
      (a, b) =>
        cmp(ts(a), ts(b)) ||
        cmp(a.metadata.namespace ?? 'default', b.metadata.namespace ?? 'default') ||
        cmp(a.metadata.name, b.metadata.name),
    );
}

/**
 * Traefik's isListenerSetAllowed: the Gateway's `allowedListeners.namespaces.from` — none (the
 * default) or `None` allows no ListenerSet, `Same` those of its namespace, `All` any, `Selector`
 * those of the (watched) Namespaces its selector matches (no selector, or a malformed one: none).
 */
export function listenerSetAllowed(gw: KubeObject, set: KubeObject, scope: NamespaceScope): boolean {
  const allowed = (gw.spec as { allowedListeners?: AllowedListeners | null } | undefined)?.allowedListeners;
  const from = allowed?.namespaces?.from;
  const ns = set.metadata.namespace ?? 'default';
  switch (from) {
    case 'Same':
      return ns === (gw.metadata.namespace ?? 'default');
    case 'All':
      return true;
    case 'Selector': {
      const selector = allowed?.namespaces?.selector;
      if (selector === undefined || selector === null) return false;
      const match = labelSelectorMatcher(selector);
      if (typeof match === 'string') return false;
      if (scope.watched.length > 0 && !scope.watched.includes(ns)) return false;
      const o = scope.objects.find((n) => n.metadata.name === ns);
      return o !== undefined && match(o.metadata.labels ?? {});
    }
    default:
      return false;
  }
}

/**
 * Traefik's makeListenerSetStatus: not allowed, `Accepted` and `Programmed` False `NotAllowed`
 * (no listeners); else each of its listeners' status, and: its Gateway not accepted, False
 * `ParentNotAccepted` / `ParentNotProgrammed`; listeners none of which is valid, False
 * `ListenersNotValid`; some invalid, True (`ListenersNotValid`, `Programmed`); else True
 * (`Accepted`, `Programmed`). `accepted` counts it in the Gateway's `attachedListenerSets`.
 */
export function listenerSetStatus(
  set: KubeObject,
  allowed: boolean,
  listeners: readonly Attach[],
  parentAccepted: boolean,
): { status: Obj; accepted: boolean } {
  const both = (ok: boolean, accepted: string, programmed: string, message: string): Condition[] => [
    condition(set, 'Accepted', ok, accepted, message),
    condition(set, 'Programmed', ok, programmed, message),
  ];
  if (!allowed) {
    const message = "ListenerSet is not allowed by the Gateway's AllowedListeners policy";
    return { status: { conditions: both(false, 'NotAllowed', 'NotAllowed', message) }, accepted: false };
  }
  const mine = listeners.filter((a) => a.set === set);
  const valid = mine.filter((a) => a.attached).length;
  const withListeners = (conditions: Condition[]): Obj => ({
    conditions,
    ...(mine.length > 0 ? { listeners: mine.map((a) => a.status) } : {}),
  });
  if (!parentAccepted) {
    const message = 'Parent Gateway is not accepted';
    return {
      status: withListeners(both(false, 'ParentNotAccepted', 'ParentNotProgrammed', message)),
      accepted: false,
    };
  }
  if (mine.length > 0 && valid === 0)
    return {
      status: withListeners(both(false, 'ListenersNotValid', 'ListenersNotValid', 'No valid listener')),
      accepted: false,
    };
  if (valid < mine.length)
    return {
      status: withListeners([
        condition(set, 'Accepted', true, 'ListenersNotValid', 'Some listeners have errors'),
        condition(set, 'Programmed', true, 'Programmed', 'Valid listeners programmed'),
      ]),
      accepted: true,
    };
  return {
    status: withListeners([
      condition(set, 'Accepted', true, 'Accepted', 'ListenerSet accepted'),
      condition(set, 'Programmed', true, 'Programmed', 'ListenerSet programmed'),
    ]),
    accepted: true,
  };
}
