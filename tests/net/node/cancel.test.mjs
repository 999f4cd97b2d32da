// cancel.test.mjs — PollFlightInfo and cancellation through a grpc-js client (harness.mjs):
// PollFlightInfo answers a complete PollInfo; CancelFlightInfo (and Flight SQL's CancelQuery)
// refuses a ticket not yet used, stops a DoGet that is streaming (the worker it held serves
// the next call), stops one whose query is still computing its first batch (the engine's
// cancel token interrupts DuckDB), and says NOT_CANCELLABLE for what is finished, unknown or
// metadata. A client that cancels its DoGet or disconnects, without CancelFlightInfo, while
// the query computes its first batch stops the query as well.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Flight, M, pack, unpack, grpc } from './harness.mjs';
import { startServer, within } from './serve.mjs';
import { spawn } from 'node:child_process';

const S = grpc.status;
const CANCELLED = 1, NOT_CANCELLABLE = 3;
const ENDLESS = 'SELECT range AS i FROM range(1000000000000)';
// A GROUP BY over 10^12 rows: its first (only) batch would take hours.
const SLOW_GROUP_BY = 'SELECT range % 10 AS k, count(*) AS n FROM range(1000000000000) GROUP BY k';
let srv, fl;
before(async () => {
  // Two workers: a streaming DoGet holds one, CancelFlightInfo runs on the other.
  srv = await startServer({
    sql: ['CREATE TABLE orders(id INTEGER PRIMARY KEY, customer TEXT, qty INTEGER)',
      "INSERT INTO orders VALUES (1, 'ann', 5), (2, 'bob', 7), (3, 'cy', 9)"],
    flight: ['port = 0', 'max_connections = 2'],
  });
  fl = new Flight(srv.port);
});
after(async () => { fl.close(); assert.equal((await srv.stop()).code, 0, srv.errors()); });

const enc = (type, obj) => Buffer.from(M(type).encode(M(type).fromObject(obj)).finish());

// CancelFlightInfo: body and result are bare messages (Flight.proto), not Any-packed.
async function cancelInfo(info) {
  const res = await fl.stream('DoAction', 'Action', 'Result',
    { type: 'CancelFlightInfo', body: enc('CancelFlightInfoRequest', { info }) });
  assert.equal(res.length, 1);
  return M('CancelFlightInfoResult').decode(res[0].body).status;
}

// A DoGet that pauses after its first message, so the server's worker waits on a send.
function heldDoGet(ticket) {
  let first;
  const firstMessage = new Promise((resolve) => { first = resolve; });
  const done = fl.doGet(ticket, {}, (d, call) => { call.pause(); first(); });
  done.catch(() => {});
  return { firstMessage, done };
}

test('PollFlightInfo: a complete PollInfo whose ticket streams the result', async () => {
  const cmd = pack('CommandStatementQuery', { query: 'SELECT id, customer FROM orders ORDER BY id' });
  const poll = await fl.unary('PollFlightInfo', 'FlightDescriptor', 'PollInfo', { type: 2, cmd });
  assert.equal(poll.progress, 1);
  assert.equal(poll.flightDescriptor, null); // nothing left to poll
  const info = await fl.info('CommandStatementQuery', { query: 'SELECT id, customer FROM orders ORDER BY id' });
  assert.deepEqual(Buffer.from(poll.info.schema), Buffer.from(info.schema));
  const got = await fl.doGet(poll.info.endpoint[0].ticket.ticket);
  assert.deepEqual([...got.table.getChild('customer')], ['ann', 'bob', 'cy']);
  const meta = await fl.unary('PollFlightInfo', 'FlightDescriptor', 'PollInfo',
    { type: 2, cmd: pack('CommandGetTableTypes', {}) });
  assert.equal(meta.progress, 1);
  assert.ok((await fl.doGet(meta.info.endpoint[0].ticket.ticket)).table.numRows >= 1);
  await assert.rejects(fl.unary('PollFlightInfo', 'FlightDescriptor', 'PollInfo',
    { type: 2, cmd: pack('CommandStatementQuery', { query: 'SELECT * FROM no_such_table' }) }),
  (e) => e.code === S.NOT_FOUND);
});

test('CancelFlightInfo before DoGet: CANCELLED, then DoGet fails with CANCELLED', async () => {
  const info = await fl.info('CommandStatementQuery', { query: 'SELECT count(*) AS n FROM orders' });
  assert.equal(await cancelInfo(info), CANCELLED);
  assert.equal(await cancelInfo(info), CANCELLED); // asked again: still cancelled
  await assert.rejects(fl.doGet(info.endpoint[0].ticket.ticket),
    (e) => e.code === S.CANCELLED && /CancelFlightInfo/.test(e.details));
});

test('CancelFlightInfo of a streaming DoGet stops it and frees its worker', async () => {
  const info = await fl.info('CommandStatementQuery', { query: ENDLESS });
  const a = heldDoGet(info.endpoint[0].ticket.ticket);
  await within(60000, a.firstMessage, 'first message');
  // CANCELLED only once the worker released the stream (the query stopped), else CANCELLING.
  assert.equal(await cancelInfo(info), CANCELLED);
  await assert.rejects(a.done, (e) => e.code === S.CANCELLED && /CancelFlightInfo/.test(e.details));
  // With two workers, another endless stream held open plus one more call can only both be
  // served if the cancelled DoGet gave its worker back.
  const info2 = await fl.info('CommandStatementQuery', { query: ENDLESS });
  const b = heldDoGet(info2.endpoint[0].ticket.ticket);
  await within(60000, b.firstMessage, 'second stream');
  const q = await within(30000, fl.query('SELECT sum(qty) AS s FROM orders'), 'query beside it');
  assert.equal(q.table.getChild('s').get(0), 21n);
  assert.equal(await cancelInfo(info2), CANCELLED);
  await assert.rejects(b.done, (e) => e.code === S.CANCELLED);
  assert.equal(await cancelInfo(info), NOT_CANCELLABLE); // finished
});

test('CancelFlightInfo of a DoGet still computing its first batch stops the query', async () => {
  const info = await fl.info('CommandStatementQuery', { query: SLOW_GROUP_BY });
  const ticket = info.endpoint[0].ticket.ticket;
  // Two DoGets of the one ticket: exactly one takes it and runs the query; the other fails
  // NOT_FOUND at once, and only after the first marked the ticket running. So when one fails,
  // the other is known to be inside the query (no message comes before its batch).
  const calls = [fl.doGet(ticket), fl.doGet(ticket)];
  calls.forEach((p) => p.catch(() => {}));
  const loser = await within(30000, Promise.race(calls.map((p, i) =>
    p.then(() => { throw new Error(`DoGet ${i} finished the slow query`); },
      (e) => { if (e.code === S.NOT_FOUND) return i; throw e; }))), 'second DoGet refused');
  const running = calls[1 - loser];
  // CANCELLED means the worker released the stream within the server's 5 s wait: the query
  // stopped while DuckDB was still inside its GROUP BY (before the token: CANCELLING).
  const t0 = Date.now();
  assert.equal(await cancelInfo(info), CANCELLED);
  await assert.rejects(running, (e) => e.code === S.CANCELLED && /CancelFlightInfo/.test(e.details));
  assert.ok(Date.now() - t0 < 10000, `cancel took ${Date.now() - t0} ms`);
  // Its worker is free: one endless stream held on one worker, and a query served beside it.
  const info2 = await fl.info('CommandStatementQuery', { query: ENDLESS });
  const b = heldDoGet(info2.endpoint[0].ticket.ticket);
  await within(60000, b.firstMessage, 'stream beside');
  const q = await within(10000, fl.query('SELECT sum(qty) AS s FROM orders'), 'query beside it');
  assert.equal(q.table.getChild('s').get(0), 21n);
  assert.equal(await cancelInfo(info2), CANCELLED);
  await assert.rejects(b.done, (e) => e.code === S.CANCELLED);
});

// Two DoGets of one ticket through makeDoGet (a function of the ticket giving {done, cancel}):
// exactly one takes the ticket and runs the query, the other fails NOT_FOUND at once, and only
// after the first marked the ticket running. Answers the running one once it is known to be
// inside the query (no message comes before its batch).
async function runningDoGet(ticket, makeDoGet) {
  const calls = [makeDoGet(ticket), makeDoGet(ticket)];
  calls.forEach((c) => c.done.catch(() => {}));
  const loser = await within(30000, Promise.race(calls.map((c, i) =>
    c.done.then(() => { throw new Error(`DoGet ${i} finished the slow query`); },
      (e) => { if (e.code === S.NOT_FOUND) return i; throw e; }))), 'second DoGet refused');
  return calls[1 - loser];
}

// The worker a stopped query held is free again: with two workers, an endless stream held
// on one and a query served beside it can only both be served if it is.
async function workersFree() {
  const info = await fl.info('CommandStatementQuery', { query: ENDLESS });
  const b = heldDoGet(info.endpoint[0].ticket.ticket);
  await within(60000, b.firstMessage, 'stream beside');
  const q = await within(10000, fl.query('SELECT sum(qty) AS s FROM orders'), 'query beside it');
  assert.equal(q.table.getChild('s').get(0), 21n);
  assert.equal(await cancelInfo(info), CANCELLED);
  await assert.rejects(b.done, (e) => e.code === S.CANCELLED);
}

test('a client cancel while the first batch is computed stops the query (no send to fail)', async () => {
  const info = await fl.info('CommandStatementQuery', { query: SLOW_GROUP_BY });
  const running = await runningDoGet(info.endpoint[0].ticket.ticket, (ticket) => {
    const call = fl.client.makeServerStreamRequest('/arrow.flight.protocol.FlightService/DoGet',
      (o) => Buffer.from(M('Ticket').encode(M('Ticket').fromObject(o)).finish()), (b) => b,
      { ticket }, fl.md(), fl.opts());
    const done = new Promise((resolve, reject) => {
      call.on('data', () => {});
      call.on('error', reject);
      call.on('end', resolve);
    });
    return { call, done };
  });
  // No CancelFlightInfo: the client only resets its stream. The server hears of it through
  // the call's RECV_CLOSE_ON_SERVER and fires the query's token; before that, the worker
  // stayed inside DuckDB's GROUP BY (hours) and the query beside below found no worker.
  const t0 = Date.now();
  running.call.cancel();
  await assert.rejects(running.done, (e) => e.code === S.CANCELLED);
  await workersFree();
  assert.ok(Date.now() - t0 < 15000, `the worker came back after ${Date.now() - t0} ms`);
});

test('a client that disconnects while the first batch is computed stops the query', async () => {
  const info = await fl.info('CommandStatementQuery', { query: SLOW_GROUP_BY });
  const ticket = Buffer.from(info.endpoint[0].ticket.ticket).toString('base64');
  // Another process races the two DoGets, says when one is inside the query, then is killed:
  // its connection closes without a word (no RST_STREAM for the call, no CancelFlightInfo).
  const harness = new URL('./harness.mjs', import.meta.url).href;
  const child = spawn(process.execPath, ['--input-type=module', '-e', `
    import { Flight } from ${JSON.stringify(harness)};
    const fl = new Flight(${srv.port});
    const t = Buffer.from(${JSON.stringify(ticket)}, 'base64');
    const calls = [fl.doGet(t), fl.doGet(t)];
    calls.forEach((p) => p.then(() => console.log('finished'), (e) => {
      console.log(e.code === 5 ? 'running' : 'failed ' + e.code + ' ' + e.details);
    }));`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let out = '';
  const said = new Promise((resolve) => child.stdout.on('data', (d) => { out += d; if (out.includes('\n')) resolve(); }));
  await within(30000, said, 'the other process racing its DoGets');
  assert.equal(out.trim(), 'running');
  const t0 = Date.now();
  child.kill('SIGKILL');
  await within(10000, exited, 'the other process exiting');
  await workersFree();
  assert.ok(Date.now() - t0 < 15000, `the worker came back after ${Date.now() - t0} ms`);
});

test('NOT_CANCELLABLE: a finished query, an unknown ticket, a metadata command', async () => {
  const done = await fl.query('SELECT 1 AS x');
  assert.equal(await cancelInfo(done.info), NOT_CANCELLABLE);
  const forged = { endpoint: [{ ticket: { ticket: pack('TicketStatementQuery', { statementHandle: Buffer.from('0'.repeat(32)) }) } }] };
  assert.equal(await cancelInfo(forged), NOT_CANCELLABLE);
  const meta = await fl.info('CommandGetCatalogs', {});
  assert.equal(await cancelInfo(meta), NOT_CANCELLABLE);
  await assert.rejects(fl.stream('DoAction', 'Action', 'Result', { type: 'CancelFlightInfo', body: Buffer.from([0xff]) }),
    (e) => e.code === S.INVALID_ARGUMENT);
});

test('CancelQuery (Flight SQL): Any-packed, the same outcome; ListActions names both', async () => {
  const info = await fl.info('CommandStatementQuery', { query: 'SELECT 2 AS x' });
  const [res] = await fl.action('CancelQuery', 'ActionCancelQueryRequest', { info: enc('FlightInfo', info) });
  assert.equal(res.type, 'ActionCancelQueryResult');
  assert.equal(res.msg.result, CANCELLED);
  await assert.rejects(fl.doGet(info.endpoint[0].ticket.ticket), (e) => e.code === S.CANCELLED);
  const acts = await fl.stream('ListActions', 'Empty', 'ActionType', {});
  const names = acts.map((t) => t.type);
  assert.ok(names.includes('CancelFlightInfo') && names.includes('CancelQuery'), names.join(','));
});

test('SIGTERM while a query computes its first batch: the server stops after its drain', async () => {
  // rh serve gives running calls 10 s, then cancels them (grpc_server_cancel_all_calls):
  // the cancel reaches the query through its call's close watch. Without it, the worker
  // stayed inside the GROUP BY and the process did not exit.
  const own = await startServer({ flight: ['port = 0', 'max_connections = 2'] });
  const fl2 = new Flight(own.port);
  try {
    const info = await fl2.info('CommandStatementQuery', { query: SLOW_GROUP_BY });
    const ticket = info.endpoint[0].ticket.ticket;
    const calls = [fl2.doGet(ticket), fl2.doGet(ticket)];
    calls.forEach((p) => p.catch(() => {}));
    await within(30000, Promise.race(calls.map((p) => p.then(() => { throw new Error('finished'); },
      (e) => { if (e.code !== S.NOT_FOUND) throw e; }))), 'second DoGet refused');
    const t0 = Date.now();
    const r = await own.stop(); // fails after 30 s
    assert.equal(r.code, 0, own.errors());
    assert.ok(Date.now() - t0 < 25000, `stopped after ${Date.now() - t0} ms`);
  } finally {
    fl2.close();
    if (own.proc.exitCode === null && own.proc.signalCode === null) own.proc.kill('SIGKILL');
  }
});
