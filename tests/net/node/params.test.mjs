// params.test.mjs — CreatePreparedStatement's parameter_schema: JDBC and ADBC build their
// parameter binding from it (JDBC saw "0 parameters" and refused every bind while the server
// sent none). One nullable field of type NA (the untyped wildcard) per parameter, numbered and
// named as SQLite numbers them; statements without parameters send no schema.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tableFromIPC, tableFromArrays } from 'apache-arrow';
import { Flight, flightDataOf } from './harness.mjs';
import { startServer } from './serve.mjs';

let srv, fl;
before(async () => {
  srv = await startServer({
    sql: ['CREATE TABLE orders(id INTEGER PRIMARY KEY, customer TEXT, qty INTEGER)',
      "INSERT INTO orders VALUES (1, 'ann', 5), (2, 'bob', 7)"],
    flight: ['port = 0', 'allow_writes = true'],
  });
  fl = new Flight(srv.port);
});
after(async () => { fl.close(); assert.equal((await srv.stop()).code, 0, srv.errors()); });

const prepare = async (query) => (await fl.action('CreatePreparedStatement', 'ActionCreatePreparedStatementRequest', { query }))[0].msg;
const paramFields = (res) => (res.parameterSchema && res.parameterSchema.length
  ? tableFromIPC(Buffer.concat([Buffer.from(res.parameterSchema), Buffer.alloc(8)])).schema.fields
    .map((f) => [f.name, String(f.type), f.nullable])
  : []);

test('one NA field per parameter, named parameter_N', async () => {
  const q = await prepare('SELECT customer FROM orders WHERE id = ? AND qty > ?');
  assert.deepEqual(paramFields(q), [['parameter_1', 'Null', true], ['parameter_2', 'Null', true]]);
  const u = await prepare('INSERT INTO orders VALUES (?, ?, ?)');
  assert.equal(u.isUpdate, true);
  assert.deepEqual(paramFields(u).map((f) => f[0]), ['parameter_1', 'parameter_2', 'parameter_3']);
});

test('SQLite numbering: ?N, repeated names, quotes and comments', async () => {
  assert.deepEqual(paramFields(await prepare('SELECT * FROM orders WHERE id = ?2 OR qty = ?1')).map((f) => f[0]),
    ['parameter_1', 'parameter_2']);
  assert.deepEqual(paramFields(await prepare('UPDATE orders SET qty = :q WHERE id = :id OR id = :id + 100')),
    [[':q', 'Null', true], [':id', 'Null', true]]);
  assert.deepEqual(paramFields(await prepare("SELECT '?' AS a, \"?\" AS b, ? AS c -- ?\n/* ? */")).map((f) => f[0]),
    ['parameter_1']);
  assert.deepEqual(paramFields(await prepare('SELECT 1 AS x')), []);
});

test('a prepared statement with a parameter schema still binds and runs', async () => {
  const q = await prepare('SELECT customer FROM orders WHERE id = ?');
  assert.equal(paramFields(q).length, 1);
  const h = q.preparedStatementHandle;
  await fl.put('CommandPreparedStatementQuery', { preparedStatementHandle: h },
    flightDataOf(tableFromArrays({ id: BigInt64Array.from([2n]) })));
  const fi = await fl.info('CommandPreparedStatementQuery', { preparedStatementHandle: h });
  assert.deepEqual((await fl.doGet(fi.endpoint[0].ticket.ticket)).table.toArray().map((r) => r.customer), ['bob']);
});
