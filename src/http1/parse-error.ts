/**
 * A request the codec refuses. `status` is what the client gets (always with Connection: close);
 * `reason` goes to the log, never to the client verbatim.
 */
export class ParseError {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string) {
    this.status = status;
    this.reason = reason;
  }
}
