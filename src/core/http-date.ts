/**
 * The Date field of the responses the proxy writes (RFC 9110 §6.6.1: an origin server with a
 * clock sends it, and a proxy adds it to a response that came without one), as Go's HTTP/1.1
 * and HTTP/2 servers add it to every Traefik response that has none: IMF-fixdate, made once per
 * second and shared by every response of that second.
 */
let second = -1;
let text = '';

export function httpDate(): string {
  const s = Math.floor(Date.now() / 1000);
  if (s !== second) {
    second = s;
    text = new Date(s * 1000).toUTCString();
  }
  return text;
}
