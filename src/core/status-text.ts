/**
 * Reason phrases of the statuses the proxy produces itself. One table for all. They are Go's
 * (`net/http` StatusText), not RFC 9110's newer wording, because Traefik writes Go's: a refusal's
 * body is `http.StatusText(code)` (ipAllowList's `reject`, oxy's buffer SizeErrHandler for 413,
 * the circuit breaker's fallback) and Go's server puts the same text in the status line. So 413 is
 * "Request Entity Too Large" and 414 "Request URI Too Long", as a Traefik user sees them.
 */
const GO_STATUS_TEXT: Readonly<Record<number, string>> = {
  100: 'Continue',
  101: 'Switching Protocols',
  102: 'Processing',
  103: 'Early Hints',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  203: 'Non-Authoritative Information',
  204: 'No Content',
  205: 'Reset Content',
  206: 'Partial Content',
  207: 'Multi-Status',
  208: 'Already Reported',
  226: 'IM Used',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  305: 'Use Proxy',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Request Entity Too Large',
  414: 'Request URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Requested Range Not Satisfiable',
  417: 'Expectation Failed',
  418: "I'm a teapot",
  421: 'Misdirected Request',
  422: 'Unprocessable Entity',
  423: 'Locked',
  424: 'Failed Dependency',
  425: 'Too Early',
  426: 'Upgrade Required',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
  506: 'Variant Also Negotiates',
  507: 'Insufficient Storage',
  508: 'Loop Detected',
  510: 'Not Extended',
  511: 'Network Authentication Required',
};

/** Not in Go's table: nginx's code for a client that left first; only ever logged. */
const OURS: Readonly<Record<number, string>> = { 499: 'Client Closed Request' };

export function statusText(status: number): string {
  return GO_STATUS_TEXT[status] ?? OURS[status] ?? 'Unknown';
}

/** Whether Go's `http.StatusText(status)` is not empty (Traefik refuses other configured codes). */
export function isGoKnownStatus(status: number): boolean {
  return GO_STATUS_TEXT[status] !== undefined;
}

/** Statuses that may carry a body (RFC 9110 §6.4.1; Go's bodyAllowedForStatus). */
export function bodyAllowed(status: number): boolean {
  return status >= 200 && status !== 204 && status !== 304;
}
