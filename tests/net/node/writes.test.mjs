// writes.test.mjs — the write paths of the Flight SQL server against a user audit: transaction
// control is refused on every path that runs SQL (one client's BEGIN held every other client's
// acknowledged inserts in its transaction, for its ROLLBACK to discard), a query refuses a
// parameter batch of several rows (it used to run row 0 only), and an update runs each row.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Table, Int64, Utf8, vectorFromArray } from 'apache-arrow';
import { Flight, flightDataOf, M, grpc } from './harness.mjs';
import { startServer } from './serve.mjs';

const S = grpc.status;
let srv, a, b;
before(async () => {
  srv = await startServer({
    sql: ['CREATE TABLE orders(id INTEGER PRIMARY KEY, customer TEXT, qty INTEGER)',
      "INSERT INTO orders VALUES (1, 'ann', 5), (2, 'ann', 7), (3, 'bob', 9), (4, 'bob', 1), (5, 'bob', 2)"],
    flight: ['port = 0', 'allow_writes = true'],
  });
  a = new Flight(srv.port);
  b = new Flight(srv.port);
});
after(async () => { a.close(); b.close(); assert.equal((await srv.stop()).code, 0, srv.errors()); });

const count = (r) => Number(M('DoPutUpdateResult').decode(r[0].appMetadata).recordCount);
const update = async (c, sql) => count(await c.put('CommandStatementUpdate', { query: sql }));
const txnRefused = (e) => e.code === S.INVALID_ARGUMENT && /transaction control/.test(e.details);
const ids = async (c) => (await c.query('SELECT id FROM orders WHERE id >= 100 ORDER BY id', { 'x-rhei-hint': 'oltp' }))
  .table.toArray().map((r) => Number(r.id));

test('transaction control is refused on DoPut statement updates; other clients\' writes stay', async () => {
  for (const sql of ['BEGIN', 'begin immediate', 'BEGIN TRANSACTION', '  /* c */ COMMIT', 'END', 'ROLLBACK',
    'SAVEPOINT s1', 'RELEASE s1', 'ROLLBACK TO s1'])
    await assert.rejects(a.put('CommandStatementUpdate', { query: sql }), txnRefused, sql);
  // a script whose later statement opens a transaction: nothing of it runs
  await assert.rejects(a.put('CommandStatementUpdate', { query: 'INSERT INTO orders(id) VALUES (99); BEGIN' }), txnRefused);
  await assert.rejects(a.put('CommandStatementUpdate', { query: "INSERT INTO orders(id) VALUES (98);\n-- x\nSAVEPOINT 'a;b'" }), txnRefused);
  assert.equal(await update(b, 'INSERT INTO orders(id) VALUES (100)'), 1);
  assert.equal(await update(b, 'INSERT INTO orders(id) VALUES (101)'), 1);
  await assert.rejects(a.put('CommandStatementUpdate', { query: 'ROLLBACK' }), txnRefused);
  assert.deepEqual(await ids(a), [100, 101]);
  assert.deepEqual(await ids(b), [100, 101]);
  const olap = await a.query('SELECT count(*) AS n FROM orders WHERE id >= 98',
    { 'x-rhei-hint': 'olap', 'x-rhei-consistency': 'strong' });
  assert.equal(olap.table.getChild('n').get(0), 2n);
  // no false alarm: a trigger's BEGIN ... END body, a column named "end"
  assert.equal(await update(a, 'CREATE TABLE log(n INTEGER, "end" TEXT)'), 0);
  assert.equal(await update(a, 'CREATE TRIGGER t_log AFTER INSERT ON orders BEGIN INSERT INTO log VALUES (NEW.id, \'x\'); END'), 0);
  assert.equal(await update(a, 'INSERT INTO orders(id) VALUES (102); UPDATE log SET "end" = \'y\''), 2);
});

test('transaction control is refused on prepared statements', async () => {
  for (const sql of ['BEGIN', 'COMMIT', 'INSERT INTO orders(id) VALUES (?); ROLLBACK']) {
    await assert.rejects(a.action('CreatePreparedStatement', 'ActionCreatePreparedStatementRequest', { query: sql }),
      txnRefused, sql);
  }
  // a query that ends in a transaction statement is refused as a write; nothing runs
  await assert.rejects(a.action('CreatePreparedStatement', 'ActionCreatePreparedStatementRequest', { query: 'SELECT 1; BEGIN' }),
    (e) => e.code === S.INVALID_ARGUMENT);
  await assert.rejects(a.query('SELECT 1; BEGIN'), (e) => e.code === S.INVALID_ARGUMENT);
  assert.equal(await update(b, 'INSERT INTO orders(id) VALUES (103)'), 1);
  assert.deepEqual(await ids(b), [100, 101, 102, 103]);
});

test('a query given several parameter rows is refused, not run for row 0 only', async () => {
  const [prep] = await a.action('CreatePreparedStatement', 'ActionCreatePreparedStatementRequest',
    { query: 'SELECT customer FROM orders WHERE id = ?' });
  const h = prep.msg.preparedStatementHandle;
  const two = new Table({ id: vectorFromArray([1n, 3n], new Int64()) });
  await assert.rejects(a.put('CommandPreparedStatementQuery', { preparedStatementHandle: h }, flightDataOf(two)),
    (e) => e.code === S.INVALID_ARGUMENT && /one row of parameters, not 2/.test(e.details));
  const one = new Table({ id: vectorFromArray([3n], new Int64()) });
  await a.put('CommandPreparedStatementQuery', { preparedStatementHandle: h }, flightDataOf(one));
  const fi = await a.info('CommandPreparedStatementQuery', { preparedStatementHandle: h });
  assert.deepEqual((await a.doGet(fi.endpoint[0].ticket.ticket)).table.toArray().map((r) => r.customer), ['bob']);
  await a.action('ClosePreparedStatement', 'ActionClosePreparedStatementRequest', { preparedStatementHandle: h });
});

test('an update given several parameter rows runs each; record_count is the sum', async () => {
  const [prep] = await a.action('CreatePreparedStatement', 'ActionCreatePreparedStatementRequest',
    { query: 'UPDATE orders SET qty = qty + 100 WHERE customer = ?' });
  assert.equal(prep.msg.isUpdate, true);
  const rows = new Table({ c: vectorFromArray(['ann', 'bob', 'nobody'], new Utf8()) });
  const r = await a.put('CommandPreparedStatementUpdate', { preparedStatementHandle: prep.msg.preparedStatementHandle }, flightDataOf(rows));
  assert.equal(count(r), 5); // 2 ann + 3 bob + 0
  const q = await a.query('SELECT sum(qty) AS s FROM orders WHERE id <= 5', { 'x-rhei-hint': 'oltp' });
  assert.equal(q.table.getChild('s').get(0), 524n);
});
