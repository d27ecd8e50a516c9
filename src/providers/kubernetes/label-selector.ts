/** A Kubernetes `metav1.LabelSelector` as it is written in an object (`matchLabels`, `matchExpressions`). */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>> | null;
  readonly matchExpressions?:
    | readonly {
        readonly key?: string;
        readonly operator?: string;
        readonly values?: readonly string[] | null;
      }[]
    | null;
}

type Labels = Readonly<Record<string, string>>;

// apimachinery's validation: a qualified name (an optional DNS-subdomain prefix and `/`, then 1–63
// of alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric) and a label value (the same
// name part, or empty).
const NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function badKey(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix === '' || prefix.length > 253 || !PREFIX.test(prefix)))
    return `invalid label key "${key}": prefix part must be a DNS-1123 subdomain`;
  if (name === '' || name.length > 63 || !NAME.test(name))
    return `invalid label key "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63)`;
  return undefined;
}

function badValue(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !NAME.test(value))
    return `invalid label value: "${value}": must be 63 characters or less and consist of alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character`;
  return undefined;
}

/**
 * apimachinery's metav1.LabelSelectorAsSelector (the one Traefik's Gateway provider evaluates
 * `allowedRoutes.namespaces.selector` with): no selector matches nothing, an empty one
 * everything; each `matchLabels` entry is an equality, each `matchExpressions` entry `In`,
 * `NotIn` (also true without the label), `Exists` or `DoesNotExist`, all of them ANDed. A
 * malformed selector (another operator, `In`/`NotIn` without values, `Exists`/`DoesNotExist` with
 * some, an invalid key or value) is an error string.
 */
export function labelSelectorMatcher(
  selector: LabelSelector | null | undefined,
): ((labels: Labels) => boolean) | string {
  if (selector === undefined || selector === null) return () => false;
  const tests: ((labels: Labels) => boolean)[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    const bad = badKey(key) ?? badValue(String(value));
    if (bad !== undefined) return bad;
    tests.push((l) => Object.hasOwn(l, key) && l[key] === value);
  }
  for (const e of selector.matchExpressions ?? []) {
    const key = e.key ?? '';
    const values = e.values ?? [];
    const bad = badKey(key);
    if (bad !== undefined) return bad;
    switch (e.operator) {
      case 'In':
      case 'NotIn': {
        if (values.length === 0)
          return `values: Invalid value: for 'in', 'notin' operators, values set can't be empty`;
        for (const v of values) {
          const badV = badValue(v);
          if (badV !== undefined) return badV;
        }
        const set = new Set(values);
        tests.push(
          e.operator === 'In'
            ? (l) => Object.hasOwn(l, key) && set.has(l[key]!)
            : (l) => !Object.hasOwn(l, key) || !set.has(l[key]!),
        );
        break;
      }
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0)
          return `values: Invalid value: values set must be empty for exists and does not exist`;
        tests.push(e.operator === 'Exists' ? (l) => Object.hasOwn(l, key) : (l) => !Object.hasOwn(l, key));
        break;
      default:
        return `"${e.operator ?? ''}" is not a valid label selector operator`;
    }
  }
  return (labels) => tests.every((t) => t(labels));
}
