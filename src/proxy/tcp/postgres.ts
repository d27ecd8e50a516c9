/**
 * Postgres's SSLRequest (int32 length 8, int32 code 80877103), which a client sends in cleartext
 * before its TLS ClientHello; a server that will do TLS answers `S`. Traefik's
 * PostgresStartTLSMsg and PostgresStartTLSReply (pkg/server/router/tcp/postgres.go).
 */
export const POSTGRES_SSL_REQUEST: Buffer = Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]);
export const POSTGRES_SSL_YES: Buffer = Buffer.from('S');
