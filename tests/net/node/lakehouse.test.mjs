// lakehouse.test.mjs — a real third-party Flight SQL client, @lakehouse-rs/flight-sql-client
// (arrow-rs arrow-flight 49 with its strict flatbuffer verifier, via napi), against
// `rh serve`: queries (prepared-statement flow), routed point reads, catalogs, schemas,
// tables, Basic→Bearer auth and refusals. Every call has a timeout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createFlightSqlClient } from '@lakehouse-rs/flight-sql-client';
import { tableFromIPC } from 'apache-arrow';
import { startServer, within } from './serve.mjs';

const T = 20000;
let srv, client;
before(async () => {
  srv = await startServer({
    sql: ['CREATE TABLE orders(id INTEGER PRIMARY KEY, customer TEXT, total DECIMAL(10,2))',
      "INSERT INTO orders VALUES (1, 'ann', 12.50), (2, 'bob', 7.25), (3, NULL, 100.00)"],
  });
  client = await within(T, createFlightSqlClient({ host: '127.0.0.1', port: srv.port, tls: false, headers: [] }), 'connect');
});
after(async () => { const r = await srv.stop(); assert.equal(r.code, 0, `rh serve exit: ${srv.errors()}`); });

const rows = (buf) => tableFromIPC(buf).toArray().map((r) => r.toJSON());

test('a query returns every row and column', async () => {
  const t = tableFromIPC(await within(T, client.query('SELECT id, customer FROM orders ORDER BY id'), 'query'));
  assert.deepEqual(t.schema.fields.map((f) => f.name), ['id', 'customer']);
  assert.deepEqual(t.toArray().map((r) => [r.id, r.customer]), [[1n, 'ann'], [2n, 'bob'], [3n, null]]);
});

test('100K rows stream through arrow-rs in several bounded messages', async () => {
  const t = tableFromIPC(await within(60000, client.query(
    "SELECT range AS i, 'row ' || range AS s FROM range(100000)"), 'query'));
  assert.equal(t.numRows, 100000);
  assert.equal(t.getChild('i').get(99999), 99999n);
  assert.equal(t.getChild('s').get(12345), 'row 12345');
});

test('messages over 4 MiB of data are split so arrow-rs accepts them', async () => {
  const t = tableFromIPC(await within(60000, client.query(
    "SELECT range AS i, repeat('x', 2000) AS s FROM range(4000)"), 'query'));
  assert.equal(t.numRows, 4000);
  assert.equal(t.getChild('s').get(3999).length, 2000);
});

// The client wraps the server's message in its own ("failed to prepare statement"); the
// status code and message are checked with grpc-js in flight.test.mjs.
test('an engine error comes back as an error, and the server keeps serving', async () => {
  await assert.rejects(within(T, client.query('SELECT * FROM no_such_table'), 'query'));
  const t = tableFromIPC(await within(T, client.query('SELECT count(*) AS n FROM orders'), 'query'));
  assert.equal(t.getChild('n').get(0), 3n);
});

// arrow-rs drops schema metadata, so which side answered is asserted in flight.test.mjs.
test('a point read and a GROUP BY, both as Arrow', async () => {
  const point = tableFromIPC(await within(T, client.query('SELECT id, customer FROM orders WHERE id = 2'), 'query'));
  assert.deepEqual(point.toArray().map((r) => r.customer), ['bob']);
  const scan = tableFromIPC(await within(T, client.query(
    'SELECT customer, count(*) AS n FROM orders GROUP BY customer ORDER BY customer NULLS LAST'), 'query'));
  assert.deepEqual(scan.toArray().map((r) => [r.customer, r.n]), [['ann', 1n], ['bob', 1n], [null, 1n]]);
});

test('headers pass a routing hint and strong consistency', async () => {
  const hinted = await within(T, createFlightSqlClient({ host: '127.0.0.1', port: srv.port, tls: false,
    headers: [{ key: 'x-rhei-hint', value: 'oltp' }, { key: 'x-rhei-consistency', value: 'strong' }] }), 'connect');
  const t = tableFromIPC(await within(T, hinted.query('SELECT count(*) AS n FROM orders'), 'query'));
  assert.equal(t.getChild('n').get(0), 3n);
});

test('authentication: Basic handshake gives a bearer token; wrong ones are refused', async () => {
  const auth = await startServer({ sql: ['CREATE TABLE t(id INTEGER PRIMARY KEY)', 'INSERT INTO t VALUES (7)'],
    flight: ['port = 0', 'tokens = ["s3cret", "other"]'] });
  try {
    const good = await within(T, createFlightSqlClient({ host: '127.0.0.1', port: auth.port, tls: false,
      headers: [], username: 'ann', password: 's3cret' }), 'connect');
    assert.equal(tableFromIPC(await within(T, good.query('SELECT id FROM t'), 'query')).getChild('id').get(0), 7n);
    const bearer = await within(T, createFlightSqlClient({ host: '127.0.0.1', port: auth.port, tls: false,
      headers: [], token: 'other' }), 'connect');
    assert.equal(tableFromIPC(await within(T, bearer.query('SELECT id FROM t'), 'query')).numRows, 1);
    // a wrong password is checked with grpc-js (flight.test.mjs): this client panics on it
    const none = await within(T, createFlightSqlClient({ host: '127.0.0.1', port: auth.port, tls: false, headers: [] }), 'connect');
    await assert.rejects(within(T, none.query('SELECT id FROM t'), 'query'));
  } finally {
    assert.equal((await auth.stop()).code, 0);
  }
});

test('catalogs, schemas and tables', async () => {
  assert.deepEqual(rows(await within(T, client.getCatalogs(), 'catalogs')), [{ catalog_name: 'rhei' }]);
  assert.deepEqual(rows(await within(T, client.getDbSchemas({}), 'schemas')),
    [{ catalog_name: 'rhei', db_schema_name: 'main' }]);
  const tables = rows(await within(T, client.getTables({ includeSchema: false }), 'tables'));
  assert.deepEqual(tables, [{ catalog_name: 'rhei', db_schema_name: 'main', table_name: 'orders', table_type: 'TABLE' }]);
  assert.deepEqual(rows(await within(T, client.getTables({ tableNameFilterPattern: 'x%' }), 'tables')), []);
});

test('tables with their schema: fields and ARROW:FLIGHT:SQL metadata', async () => {
  const t = tableFromIPC(await within(T, client.getTables({ includeSchema: true }), 'tables'));
  assert.deepEqual(t.schema.fields.map((f) => [f.name, String(f.type), f.nullable]), [
    ['catalog_name', 'Utf8', true], ['db_schema_name', 'Utf8', true], ['table_name', 'Utf8', false],
    ['table_type', 'Utf8', false], ['table_schema', 'Binary', false]]);
  const inner = tableFromIPC(t.getChild('table_schema').get(0));
  assert.deepEqual(inner.schema.fields.map((f) => f.name), ['id', 'customer', 'total']);
  assert.equal(inner.schema.fields[0].metadata.get('ARROW:FLIGHT:SQL:TABLE_NAME'), 'orders');
  assert.equal(inner.schema.fields[2].metadata.get('ARROW:FLIGHT:SQL:TYPE_NAME'), 'DECIMAL(10,2)');
});
