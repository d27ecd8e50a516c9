/**
 * `log.otlp` end to end (Traefik's experimental OTLP logs: types/logs.go OTelLog, logs/otel.go
 * otelLoggerHook): the real proxy's log records reach a receiver on loopback over OTLP/HTTP
 * (protobuf) and over OTLP/gRPC, with the message as body, the level as severity, the fields as
 * attributes and the section's resource; without `experimental.otlpLogs` the configuration is
 * refused, as Traefik's ValidateConfiguration refuses it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type OtlpReceiver, startOtlpGrpcReceiver, startOtlpReceiver } from '../helpers/otlp-receiver.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('log.otlp', () => {
  let http: OtlpReceiver;
  let grpc: OtlpReceiver;

  before(async () => {
    http = await startOtlpReceiver();
    grpc = await startOtlpGrpcReceiver();
  });

  after(async () => {
    await Promise.all([http?.close(), grpc?.close()]);
  });

  for (const transport of ['http', 'grpc'] as const) {
    it(`sends the log's records over OTLP/${transport}, with severity, body, fields and resource`, async () => {
      const receiver = transport === 'http' ? http : grpc;
      const section =
        transport === 'http'
          ? `http: { endpoint: "${receiver.base}" }`
          : `grpc: { endpoint: "${receiver.hostPort}", insecure: true }`;
      let proxy: ProxyProcess | undefined;
      try {
        proxy = await startProxy({
          config: `entryPoints:
  web:
    address: "127.0.0.1:0"
experimental:
  otlpLogs: true
log:
  level: INFO
  otlp:
    serviceName: edge-logs
    resourceAttributes: { team: a }
    ${section}
http:
  routers:
    r: { rule: "PathPrefix(\`/\`)", service: s }
  services:
    s: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9" }] } }
`,
        });
        const seen = await receiver.waitForLog((l) => l.resource['service.name'] === 'edge-logs', 30_000);
        assert.equal(seen.scope, 'traefik');
        assert.equal(seen.resource.team, 'a');
        assert.ok(BigInt(seen.timeUnixNano) > 0n);
        await proxy.stop();
        // The last records go out at shutdown, `stopped` among them (info: severity 9).
        const stopped = await receiver.waitForLog(
          (l) => l.body === 'stopped' && l.resource['service.name'] === 'edge-logs',
          30_000,
        );
        assert.equal(stopped.severityNumber, 9);
        // Traefik's zerolog hook sets no severityText (the access log's otellogrus does).
        assert.equal(stopped.severityText, '');
        const shutting = receiver.logs.find(
          (l) => l.body === 'shutting down' && l.resource['service.name'] === 'edge-logs',
        )!;
        assert.equal(shutting.attributes.signal, 'SIGTERM');
        assert.equal(typeof shutting.attributes.graceMs, 'number');
      } finally {
        await proxy?.stop();
      }
    });
  }

  it('is refused without experimental.otlpLogs, as Traefik refuses it', async () => {
    await assert.rejects(
      startProxy({
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log:
  otlp: {}
`,
        timeoutMs: 20_000,
      }),
      /experimental OTLPLogs feature must be enabled/,
    );
  });
});
