/**
 * One OCSP request over HTTP (RFC 6960 A.1: POST, `application/ocsp-request`), as Traefik sends
 * it. Responders are plain http:// as a rule (the response is signed); https:// works too, with
 * node's trusted roots. The request is HTTP/1.0 on a socket of its own: the answer then has no
 * chunked framing and ends with the connection, and the process does not load node:http (about
 * 18 MB of resident memory) for a few requests an hour.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** A response larger than this is not an OCSP response (they are a few KiB). */
const MAX_BYTES = 1 << 20;

export function postOcsp(url: string, body: Buffer, signal: AbortSignal): Promise<Buffer> {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    return Promise.reject(new Error(`unsupported responder URL ${url}`));
  }
  const https = u.protocol === 'https:';
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const port = Number(u.port || (https ? 443 : 80));
  const head =
    `POST ${u.pathname}${u.search} HTTP/1.0\r\nHost: ${u.host}\r\n` +
    `Content-Type: application/ocsp-request\r\nContent-Length: ${body.length}\r\n\r\n`;
  return new Promise<Buffer>((resolve, reject) => {
    const socket: Socket = https ? tlsConnect({ host, port, servername: host }) : netConnect({ host, port });
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (e: Error): void => {
      socket.destroy();
      reject(e);
    };
    const onAbort = (): void => fail(new Error(`no answer: ${String(signal.reason)}`));
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once(https ? 'secureConnect' : 'connect', () => {
      socket.write(head);
      socket.write(body);
    });
    socket.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_BYTES) fail(new Error(`response larger than ${MAX_BYTES} bytes`));
      else chunks.push(d);
    });
    socket.on('error', fail);
    socket.on('end', () => {
      socket.end();
      try {
        resolve(responseBody(Buffer.concat(chunks)));
      } catch (e) {
        reject(e as Error);
      }
    });
    socket.on('close', () => {
      signal.removeEventListener('abort', onAbort);
      // After an error or an abort this does nothing: the promise is settled already.
      reject(new Error('connection closed before the response ended'));
    });
  });
}

/** The body of an HTTP/1.x response read to the end of the connection, if its status is 2xx. */
function responseBody(raw: Buffer): Buffer {
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1) throw new Error('no HTTP response head');
  const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0] ?? '');
  if (status === null)
    throw new Error(`not an HTTP response: ${JSON.stringify((lines[0] ?? '').slice(0, 40))}`);
  const code = Number(status[1]);
  if (code < 200 || code > 299) throw new Error(`responder answered HTTP ${code}`);
  let body = raw.subarray(end + 4);
  for (const line of lines.slice(1)) {
    const m = /^content-length:\s*(\d+)\s*$/i.exec(line);
    if (m === null) continue;
    const length = Number(m[1]);
    if (body.length < length) throw new Error(`response body cut short (${body.length} of ${length} bytes)`);
    body = body.subarray(0, length);
  }
  return body;
}
