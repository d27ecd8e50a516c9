import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { startOtlpReceiver } from '../../../test/helpers/otlp-receiver.ts';
import { clientTlsOptions } from '../../core/client-tls.ts';
import type { LogFields, Logger } from '../../core/logger.ts';
import { TestPki } from '../../upstream/test-pki.ts';
import type { FinishedSpan } from './span.ts';
import { SpanExporter, type SpanExporterOptions } from './span-exporter.ts';

interface Captured {
  readonly logger: Logger;
  readonly warnings: Array<{ msg: string; fields: LogFields }>;
}

function capture(): Captured {
  const warnings: Captured['warnings'] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (msg, fields = {}) => warnings.push({ msg, fields }),
    error: () => {},
    enabled: () => true,
    child: () => logger,
  };
  return { logger, warnings };
}

function span(name: string): FinishedSpan {
  return {
    traceId: 'a'.repeat(32),
    spanId: 'b'.repeat(16),
    parentSpanId: undefined,
    tracestate: undefined,
    name,
    startEpochMs: 1,
    endEpochMs: 2,
    status: 200,
    attributes: [],
  };
}

function exporter(
  t: { after(fn: () => Promise<void>): void },
  logger: Logger,
  over: Partial<SpanExporterOptions>,
): SpanExporter {
  const e = new SpanExporter(
    {
      endpoint: 'http://127.0.0.1:9/v1/traces',
      headers: {},
      resource: { attributes: [] },
      flushIntervalMs: 3_600_000,
      maxBatch: 512,
      maxQueue: 4096,
      timeoutMs: 10_000,
      ...over,
    },
    logger,
  );
  t.after(() => e.close());
  return e;
}

/** The URL of a receiver that was started and closed again: connections are refused. */
async function deadEndpoint(): Promise<string> {
  const r = await startOtlpReceiver();
  await r.close();
  return r.url;
}

describe('SpanExporter failures', () => {
  it('resolves flush, drops and counts the batch when the receiver is down', async (t) => {
    const { logger, warnings } = capture();
    const e = exporter(t, logger, { endpoint: await deadEndpoint() });
    e.enqueue(span('a'));
    e.enqueue(span('b'));
    await e.flush();
    assert.equal(e.dropped, 2);
    assert.equal(e.exported, 0);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.msg, 'tracing: span export failed, batch dropped');
    assert.equal(warnings[0]!.fields['spans'], 2);
  });

  it('logs export failures at most once a minute and reports how many it kept quiet', async (t) => {
    const { logger, warnings } = capture();
    let now = 1_000_000;
    const e = exporter(t, logger, { endpoint: await deadEndpoint(), now: () => now });
    for (let i = 0; i < 3; i++) {
      e.enqueue(span(`f${i}`));
      await e.flush();
    }
    assert.equal(warnings.length, 1);
    now += 60_000;
    e.enqueue(span('later'));
    await e.flush();
    assert.equal(warnings.length, 2);
    assert.equal(warnings[1]!.fields['suppressed'], 2);
    assert.equal(e.dropped, 4);
  });

  it('aborts an export the collector never answers, so the next batch can go', async (t) => {
    const sockets: Socket[] = [];
    const hung = createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const s of sockets) s.destroy();
      hung.close();
    });
    const { port } = hung.address() as { port: number };
    const { logger, warnings } = capture();
    const e = exporter(t, logger, { endpoint: `http://127.0.0.1:${port}/v1/traces`, timeoutMs: 50 });
    e.enqueue(span('stuck'));
    await e.flush();
    assert.equal(e.dropped, 1);
    assert.equal(warnings.length, 1);
    // The kernel accepted the connection; on a loaded machine the server's 'connection' callback
    // may run only after the 50 ms abort. Bounded: a connection that never came fails below.
    if (sockets.length === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5000);
        hung.once('connection', () => {
          clearTimeout(timer);
          setImmediate(resolve);
        });
      });
    }
    assert.ok(sockets.length >= 1, 'the export reached the collector');
  });
});

describe('SpanExporter flush', () => {
  it('lets concurrent flushes share one export and resolve when their spans are out', async (t) => {
    const receiver = await startOtlpReceiver();
    t.after(() => receiver.close());
    const e = exporter(t, capture().logger, { endpoint: receiver.url });
    e.enqueue(span('one'));
    const first = e.flush();
    e.enqueue(span('two'));
    const second = e.flush();
    await Promise.all([first, second]);
    assert.deepEqual(
      receiver.spans.map((s) => s.name),
      ['one', 'two'],
    );
    assert.equal(e.exported, 2);
  });

  it('resolves at once when nothing is queued', async (t) => {
    const receiver = await startOtlpReceiver();
    t.after(() => receiver.close());
    const e = exporter(t, capture().logger, { endpoint: receiver.url });
    await e.flush();
    assert.equal(receiver.exports.length, 0);
  });

  it('splits a large flush into batches of maxBatch', async (t) => {
    const receiver = await startOtlpReceiver();
    t.after(() => receiver.close());
    const e = exporter(t, capture().logger, { endpoint: receiver.url, maxBatch: 4 });
    for (let i = 0; i < 10; i++) e.enqueue(span(`s${i}`));
    await e.flush();
    assert.deepEqual(
      receiver.exports.map((x) => x.spanCount),
      [4, 4, 2],
    );
  });
});

describe('SpanExporter transport', () => {
  it('sends gzip-compressed JSON, as Traefik’s otlptracehttp client (WithCompression(GzipCompression))', async (t) => {
    const receiver = await startOtlpReceiver();
    t.after(() => receiver.close());
    const e = exporter(t, capture().logger, { endpoint: receiver.url, headers: { 'x-tenant': 'a' } });
    e.enqueue(span('zipped'));
    await e.flush();
    assert.deepEqual(
      receiver.spans.map((s) => s.name),
      ['zipped'],
    );
    const [sent] = receiver.exports;
    assert.equal(sent!.headers['content-encoding'], 'gzip');
    assert.equal(sent!.contentType, 'application/x-protobuf');
    assert.equal(sent!.headers['x-tenant'], 'a');
  });

  it('exports over mutual TLS with `tls` (ca, cert, key)', async (t) => {
    const pki = new TestPki();
    const client = pki.issue('edge', ['edge']);
    const receiver = await startOtlpReceiver({
      ...pki.issue('collector', ['127.0.0.1']),
      clientCaPem: pki.ca.certPem,
    });
    t.after(async () => {
      await receiver.close();
      pki.remove();
    });
    const { logger, warnings } = capture();
    const tls = clientTlsOptions({
      ca: pki.ca.certFile,
      cert: client.certFile,
      key: client.keyFile,
      insecureSkipVerify: false,
    });
    const e = exporter(t, logger, { endpoint: receiver.url, tls });
    e.enqueue(span('secret'));
    await e.flush();
    assert.deepEqual(warnings, []);
    assert.equal(e.exported, 1);
    assert.deepEqual(
      receiver.spans.map((s) => s.name),
      ['secret'],
    );
  });
});
