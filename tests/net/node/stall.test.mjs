// stall.test.mjs — clients that stop reading a DoGet stream must not hold the server's worker
// slots forever: a message the client does not take within the send timeout (here 1 s, through
// [flight] send_timeout_ms) cancels that call and frees its slot. Before, with
// max_connections stalled readers, every other call (even GetFlightInfo) waited for good.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Flight, grpc } from './harness.mjs';
import { startServer, within } from './serve.mjs';

const SLOTS = 2;
let srv;
before(async () => {
  srv = await startServer({
    flight: ['port = 0', `max_connections = ${SLOTS}`, 'send_timeout_ms = 1000'],
  });
});
after(async () => { assert.equal((await srv.stop()).code, 0, srv.errors()); });

// A DoGet that takes its first message and then reads nothing; resolves once it did.
function stalledReader(port, fi) {
  const c = new Flight(port);
  const call = c.client.makeServerStreamRequest('/arrow.flight.protocol.FlightService/DoGet',
    (t) => Buffer.from(t), (b) => b, Buffer.from([0x0a, ...varint(fi.endpoint[0].ticket.ticket.length), ...fi.endpoint[0].ticket.ticket]),
    c.md(), {});
  // 'status' comes once with the call's final status ('end' and 'error' may come in any order)
  call.on('error', () => {});
  const ended = new Promise((resolve) => call.on('status', resolve));
  const first = new Promise((resolve) => call.on('data', function once() { call.pause(); call.off('data', once); resolve(); }));
  return { c, call, first, ended };
}
function varint(n) { const o = []; while (n > 127) { o.push((n & 127) | 128); n >>= 7; } o.push(n); return o; }

test('stalled DoGet readers are cancelled after the send timeout; other calls get a slot', async () => {
  const sql = "SELECT range AS i, repeat('x', 200) AS s FROM range(3000000)";
  const readers = [];
  for (let i = 0; i < SLOTS; i++) {
    const setup = new Flight(srv.port);
    const fi = await setup.info('CommandStatementQuery', { query: sql }, { 'x-rhei-hint': 'olap' });
    setup.close();
    const r = stalledReader(srv.port, fi);
    await within(30000, r.first, `reader ${i} first message`);
    readers.push(r);
  }
  // every slot is held by a reader that reads nothing: a fresh call needs a slot freed
  const fresh = new Flight(srv.port);
  const t0 = Date.now();
  const got = await within(20000, fresh.query('SELECT 42 AS x'), 'fresh query behind stalled readers');
  assert.equal(got.table.getChild('x').get(0), 42n);
  const waited = Date.now() - t0;
  assert.ok(waited >= 500, `the fresh call waited ${waited} ms: were the slots really held?`);
  // the stalled streams were cut (still paused: their status comes regardless), not completed
  for (const r of readers) {
    const st = await within(30000, r.ended, 'stalled reader end');
    assert.equal(st.code, grpc.status.DEADLINE_EXCEEDED, `a stalled 3M-row stream ended with ${st.code} ${st.details}`);
    assert.match(st.details, /send timeout/);
    r.c.close();
  }
  fresh.close();
});
