/**
 * One OCSP request over HTTP (RFC 6960 A.1: POST, `application/ocsp-request`), as Traefik sends
 * it. Responders are plain http:// as a rule (the response is signed); https:// works too, with
 * the system's roots. node:http and node:https are loaded on first use: a proxy that staples
 * nothing never pays for them.
 */

/** A response larger than this is not an OCSP response (they are a few KiB). */
const MAX_BYTES = 1 << 20;

export async function postOcsp(url: string, body: Buffer, signal: AbortSignal): Promise<Buffer> {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`unsupported responder URL ${url}`);
  const { request } = u.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise<Buffer>((resolve, reject) => {
    const req = request(
      u,
      {
        method: 'POST',
        headers: { 'content-type': 'application/ocsp-request', 'content-length': body.length },
        signal,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) {
          res.resume();
          reject(new Error(`responder answered HTTP ${status}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (d: Buffer) => {
          size += d.length;
          if (size > MAX_BYTES) {
            req.destroy(new Error(`response larger than ${MAX_BYTES} bytes`));
            return;
          }
          chunks.push(d);
        });
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
