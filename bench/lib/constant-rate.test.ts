import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConstantRateDriver, dueOffsetMs, scheduledCount } from './constant-rate.ts';

/** A driver whose writes are logged as [connection, time of the write]. */
function driver(rate: number, connections: number, durationMs: number, start = 1000) {
  const writes: Array<[number, number]> = [];
  let now = start;
  const d = new ConstantRateDriver({ rate, connections, durationMs }, start, {
    send: (conn) => writes.push([conn, now]),
  });
  for (let c = 0; c < connections; c++) d.opened(c);
  const at = (t: number) => {
    now = t;
    return d.tick(t);
  };
  const respond = (conn: number, t: number, status = 200) => {
    now = t;
    d.response(conn, status, t);
  };
  return { d, writes, at, respond };
}

describe('the constant-rate schedule', () => {
  it('spaces requests 1/rate apart, round-robin over connections: each connection every C/rate, phased evenly', () => {
    assert.equal(dueOffsetMs(0, 20_000), 0);
    assert.equal(dueOffsetMs(1, 20_000), 0.05);
    assert.equal(dueOffsetMs(20_000, 20_000), 1000);
    const { d } = driver(1000, 4, 100);
    // Connection 1's requests are k = 1, 5, 9: 4 ms apart, 1 ms after connection 0's.
    assert.deepEqual(
      [1, 5, 9].map((k) => d.dueMs(k) - 1000),
      [1, 5, 9],
    );
  });

  it('schedules every request due before the end of the run, and no other', () => {
    assert.equal(scheduledCount({ rate: 400, connections: 4, durationMs: 1000 }), 400);
    assert.equal(scheduledCount({ rate: 3, connections: 1, durationMs: 1000 }), 3);
    assert.equal(scheduledCount({ rate: 12_345, connections: 50, durationMs: 10_000 }), 123_450);
    // 2.5 requests' worth: k = 0, 1, 2 are due at 0, 1, 2 ms < 2.5 ms.
    assert.equal(scheduledCount({ rate: 1000, connections: 1, durationMs: 2.5 }), 3);
  });

  it('refuses a plan without a rate, a connection or a duration', () => {
    const sink = { send: () => {} };
    assert.throws(
      () => new ConstantRateDriver({ rate: 0, connections: 1, durationMs: 1 }, 0, sink),
      /bad plan/,
    );
    assert.throws(
      () => new ConstantRateDriver({ rate: 1, connections: 0, durationMs: 1 }, 0, sink),
      /bad plan/,
    );
    assert.throws(
      () => new ConstantRateDriver({ rate: 1, connections: 1, durationMs: 0 }, 0, sink),
      /bad plan/,
    );
  });
});

describe('ConstantRateDriver', () => {
  it('writes each request when due on its connection and says how long until the next', () => {
    const { writes, at } = driver(1000, 2, 4);
    assert.equal(at(999.5), 0.5);
    assert.deepEqual(writes, []);
    assert.equal(at(1000), 1);
    assert.deepEqual(writes, [[0, 1000]]);
    assert.equal(at(1001.25), 0.75);
    assert.deepEqual(writes, [
      [0, 1000],
      [1, 1001.25],
    ]);
  });

  it('times a request from when it was due, and counts the client handing it out late as lateness', () => {
    const { d, at, respond } = driver(1000, 1, 1);
    at(1000.4); // 0.4 ms late
    respond(0, 1000.9);
    assert.equal(d.latency.summary().maxMs, 0.9);
    assert.equal(d.lateness.summary().maxMs, 0.4);
    assert.ok(d.done);
  });

  it('corrects coordinated omission: a request due while its connection waits queues, and the wait counts', () => {
    const { d, writes, at, respond } = driver(1000, 1, 3);
    at(1000); // k=0 written
    at(1002); // k=1 (due 1001) and k=2 (due 1002) queue behind it
    assert.deepEqual(writes, [[0, 1000]]);
    assert.equal(at(1010), -1, 'all handed out');
    respond(0, 1010); // k=0 took 10 ms; k=1 is written now, 9 ms after it was due
    respond(0, 1010.5); // k=1: 9.5 ms from due; k=2 written
    respond(0, 1011); // k=2: 9 ms from due
    assert.deepEqual(writes, [
      [0, 1000],
      [0, 1010],
      [0, 1010.5],
    ]);
    const ms = d.latency.buckets().map(([ns, n]) => [Math.round(ns / 1e5) / 10, n]);
    assert.deepEqual(ms, [
      [9, 1],
      [9.5, 1],
      [10, 1],
    ]);
    // The client handed k=1 out 1 ms late (at 1002, due 1001): its own lateness, apart from the wait.
    assert.equal(d.lateness.summary().maxMs, 1);
    assert.equal(d.completed, 3);
    assert.ok(d.done);
  });

  it('counts statuses, and non-2xx/3xx as errors as wrk does', () => {
    const { d, at, respond } = driver(1000, 3, 3);
    at(1002);
    respond(0, 1003, 200);
    respond(1, 1003, 302);
    respond(2, 1003, 503);
    assert.deepEqual(d.statuses, { '200': 1, '302': 1, '503': 1 });
    assert.deepEqual(d.errors, { 'status 503': 1 });
  });

  it('loses the request in flight with its connection, and sends the queued ones once it reopens', () => {
    const { d, writes, at, respond } = driver(1000, 1, 3);
    at(1001); // k=0 written at 1001, k=1 queued
    d.lost(0, 'ECONNRESET');
    at(1002); // k=2 queued: the connection is down
    assert.deepEqual(writes, [[0, 1001]]);
    d.opened(0); // at 1002
    assert.deepEqual(writes, [
      [0, 1001],
      [0, 1002],
    ]);
    respond(0, 1005); // k=1, due 1001: 4 ms
    respond(0, 1006); // k=2, due 1002: 4 ms
    assert.deepEqual(d.errors, { ECONNRESET: 1 });
    assert.equal(d.completed, 2);
    assert.ok(d.done);
  });

  it('writes nothing more on a connection whose response said it closes, until it reopens', () => {
    const { d, writes, at, respond } = driver(1000, 1, 2);
    at(1001); // k=0 written, k=1 queued
    d.response(0, 200, 1002, true);
    assert.deepEqual(writes, [[0, 1000 + 1]]);
    d.lost(0, 'closed'); // the close itself: nothing was in flight, so no error
    d.opened(0);
    assert.equal(writes.length, 2);
    respond(0, 1004);
    assert.deepEqual(d.errors, {});
    assert.equal(d.completed, 2);
    assert.ok(d.done);
  });

  it('gives up on what is unanswered at the drain deadline', () => {
    const { d, at } = driver(1000, 1, 3);
    at(1005);
    assert.equal(d.done, false);
    d.abandon();
    assert.ok(d.done);
    assert.deepEqual(d.errors, { unfinished: 3 });
  });

  it('counts a response nobody asked for, and a connection that would not open', () => {
    const { d } = driver(1000, 1, 1);
    d.response(0, 200, 1000);
    d.connectFailed();
    assert.deepEqual(d.errors, { unsolicited: 1, connect: 1 });
    assert.equal(d.completed, 0);
  });
});
