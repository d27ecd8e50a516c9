/**
 * Go's strconv.ParseBool, which Traefik's decoders (paerser, label decoding, lego's env) use for
 * every boolean: `1 t T TRUE true True` and `0 f F FALSE false False`; anything else is undefined.
 */
export function parseGoBool(v: string): boolean | undefined {
  switch (v) {
    case '1':
    case 't':
    case 'T':
    case 'TRUE':
    case 'true':
    case 'True':
      return true;
    case '0':
    case 'f':
    case 'F':
    case 'FALSE':
    case 'false':
    case 'False':
      return false;
    default:
      return undefined;
  }
}
