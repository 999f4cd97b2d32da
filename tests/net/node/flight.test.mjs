// flight.test.mjs — the Flight SQL server of `rh serve` through a grpc-js client
// (harness.mjs): GetSqlInfo's dense union, exact metadata schemas (ADBC compares names, types
// and nullability), prepared statements with DoPut parameters, opt-in writes answered with
// DoPutUpdateResult, zstd/lz4 on request, gRPC status codes with the engine's message,
// tickets that cannot be forged or replayed, cancellation mid-stream, routing metadata.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tableFromArrays, Int64, Utf8, Field, Schema, Table, vectorFromArray, makeData, RecordBatch, Struct } from 'apache-arrow';
import { Flight, flightDataOf, M, grpc } from './harness.mjs';
import { startServer, within } from './serve.mjs';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const S = grpc.status;
let srv, fl;
before(async () => {
  srv = await startServer({
    sql: ['CREATE TABLE orders(id INTEGER PRIMARY KEY, customer TEXT, qty INTEGER)',
      "INSERT INTO orders VALUES (1, 'ann', 5), (2, 'bob', 7), (3, 'cy', 9)"],
    flight: ['port = 0', 'allow_writes = true'],
  });
  fl = new Flight(srv.port);
});
after(async () => { fl.close(); assert.equal((await srv.stop()).code, 0, srv.errors()); });

const fields = (schema) => schema.fields.map((f) => [f.name, String(f.type), f.nullable]);

test('GetSqlInfo: every SqlInfo code, value column a dense union', async () => {
  const { table } = await fl.meta('CommandGetSqlInfo', {});
  assert.deepEqual(fields(table.schema)[0], ['info_name', 'Uint32', false]);
  const u = table.schema.fields[1];
  assert.equal(u.name, 'value');
  assert.equal(u.nullable, false);
  assert.equal(u.type.mode, 1 /* Dense */);
  assert.deepEqual(u.type.children.map((c) => c.name), ['string_value', 'bool_value', 'bigint_value',
    'int32_bitmask', 'string_list', 'int32_to_int32_list_map']);
  const codes = table.getChild('info_name').toArray();
  const want = [...Array(12).keys(), 100, 101, ...Array.from({ length: 77 }, (_, i) => 500 + i)];
  assert.deepEqual([...codes], want);
  const value = (code) => table.getChild('value').get([...codes].indexOf(code));
  assert.equal(value(0), 'Rhei');
  assert.equal(value(3), false); // read-only: false, this server allows writes
  assert.equal(value(8), 0);     // transactions: NONE
  assert.ok([...value(508)].includes('PRAGMA'));
  const some = (await fl.meta('CommandGetSqlInfo', { info: [0, 504] })).table;
  assert.deepEqual([...some.getChild('info_name').toArray()], [0, 504]);
  assert.equal(some.getChild('value').get(1), '"');
});

test('metadata schemas are exactly the spec\'s', async () => {
  const cases = {
    CommandGetCatalogs: [['catalog_name', 'Utf8', false]],
    CommandGetDbSchemas: [['catalog_name', 'Utf8', true], ['db_schema_name', 'Utf8', false]],
    CommandGetTableTypes: [['table_type', 'Utf8', false]],
    CommandGetTables: [['catalog_name', 'Utf8', true], ['db_schema_name', 'Utf8', true],
      ['table_name', 'Utf8', false], ['table_type', 'Utf8', false]],
    CommandGetPrimaryKeys: [['catalog_name', 'Utf8', true], ['db_schema_name', 'Utf8', true],
      ['table_name', 'Utf8', false], ['column_name', 'Utf8', false], ['key_name', 'Utf8', true],
      ['key_sequence', 'Int32', false]],
    CommandGetExportedKeys: [['pk_catalog_name', 'Utf8', true], ['pk_db_schema_name', 'Utf8', true],
      ['pk_table_name', 'Utf8', false], ['pk_column_name', 'Utf8', false], ['fk_catalog_name', 'Utf8', true],
      ['fk_db_schema_name', 'Utf8', true], ['fk_table_name', 'Utf8', false], ['fk_column_name', 'Utf8', false],
      ['key_sequence', 'Int32', false], ['fk_key_name', 'Utf8', true], ['pk_key_name', 'Utf8', true],
      ['update_rule', 'Uint8', false], ['delete_rule', 'Uint8', false]],
  };
  for (const [cmd, want] of Object.entries(cases)) {
    const arg = cmd === 'CommandGetPrimaryKeys' || cmd === 'CommandGetExportedKeys' ? { table: 'orders' } : {};
    const { table, infoSchema } = await fl.meta(cmd, arg);
    assert.deepEqual(fields(table.schema), want, `${cmd} DoGet schema`);
    assert.deepEqual(fields(infoSchema), want, `${cmd} FlightInfo schema`);
  }
  const pk = (await fl.meta('CommandGetPrimaryKeys', { table: 'orders' })).table.toArray().map((r) => r.toJSON());
  assert.deepEqual(pk, [{ catalog_name: 'rhei', db_schema_name: 'main', table_name: 'orders',
    column_name: 'id', key_name: null, key_sequence: 1 }]);
  const types = (await fl.meta('CommandGetTableTypes')).table.getChild('table_type').toArray();
  assert.deepEqual([...types], ['TABLE', 'VIEW']);
});

test('GetFlightInfo schema equals the DoGet stream schema; GetSchema too', async () => {
  const sql = 'SELECT id, customer, qty * 2 AS q2 FROM orders ORDER BY id';
  const { info, table } = await fl.query(sql);
  const declared = (await fl.meta('CommandGetCatalogs')).infoSchema; // warm path
  assert.ok(declared);
  const fromInfo = (await import('apache-arrow')).tableFromIPC(Buffer.concat([Buffer.from(info.schema), Buffer.alloc(8)])).schema;
  assert.deepEqual(fields(fromInfo), fields(table.schema));
  const sr = await fl.schema('CommandStatementQuery', { query: sql });
  const fromSchema = (await import('apache-arrow')).tableFromIPC(Buffer.concat([Buffer.from(sr.schema), Buffer.alloc(8)])).schema;
  assert.deepEqual(fields(fromSchema), fields(table.schema));
  assert.deepEqual(table.toArray().map((r) => [r.id, r.customer, r.q2]), [[1n, 'ann', 10n], [2n, 'bob', 14n], [3n, 'cy', 18n]]);
});

test('routing: schema metadata names the side; headers pass a hint', async () => {
  const point = await fl.query('SELECT * FROM orders WHERE id = 2');
  assert.equal(point.table.schema.metadata.get('rhei.side'), 'oltp');
  const agg = await fl.query('SELECT sum(qty) AS s FROM orders');
  assert.equal(agg.table.schema.metadata.get('rhei.side'), 'olap');
  assert.equal(agg.table.getChild('s').get(0), 21n);
  const hinted = await fl.query('SELECT sum(qty) AS s FROM orders', { 'x-rhei-hint': 'oltp' });
  assert.equal(hinted.table.schema.metadata.get('rhei.side'), 'oltp');
  await assert.rejects(fl.query('SELECT 1', { 'x-rhei-hint': 'sideways' }), (e) => e.code === S.INVALID_ARGUMENT);
});

test('errors: status codes with the engine message', async () => {
  await assert.rejects(fl.query('SELECT * FROM no_such_table'),
    (e) => e.code === S.NOT_FOUND && /no such table: no_such_table/.test(e.details));
  await assert.rejects(fl.unary('ListFlights', 'Criteria', 'FlightInfo', {}), (e) => e.code === S.UNIMPLEMENTED);
});

// GetXdbcTypeInfo: the spec's schema (FlightSql.proto, CommandGetXdbcTypeInfo) exactly, names,
// types and nullability, including the non-null list item; rows ordered by data_type then name.
test('GetXdbcTypeInfo: spec schema, rhei\'s types ordered by data_type, filter by data_type', async () => {
  const want = [['type_name', 'Utf8', false], ['data_type', 'Int32', false], ['column_size', 'Int32', true],
    ['literal_prefix', 'Utf8', true], ['literal_suffix', 'Utf8', true], ['create_params', 'List<Utf8>', true],
    ['nullable', 'Int32', false], ['case_sensitive', 'Bool', false], ['searchable', 'Int32', false],
    ['unsigned_attribute', 'Bool', true], ['fixed_prec_scale', 'Bool', false], ['auto_increment', 'Bool', true],
    ['local_type_name', 'Utf8', true], ['minimum_scale', 'Int32', true], ['maximum_scale', 'Int32', true],
    ['sql_data_type', 'Int32', false], ['datetime_subcode', 'Int32', true], ['num_prec_radix', 'Int32', true],
    ['interval_precision', 'Int32', true]];
  const { table, infoSchema } = await fl.meta('CommandGetXdbcTypeInfo', {});
  assert.deepEqual(fields(table.schema), want);
  assert.deepEqual(fields(infoSchema), want);
  const item = table.schema.fields[5].type.children[0];
  assert.deepEqual([item.name, String(item.type), item.nullable], ['item', 'Utf8', false]);
  const rows = table.toArray().map((r) => r.toJSON());
  assert.deepEqual(rows.map((r) => [r.type_name, r.data_type]), [['BOOLEAN', -7], ['INTEGER', -5],
    ['BLOB', -3], ['DECIMAL', 3], ['REAL', 8], ['TEXT', 12], ['DATE', 91], ['TIMESTAMP', 93]]);
  const dec = rows.find((r) => r.type_name === 'DECIMAL');
  assert.deepEqual([...dec.create_params], ['precision', 'scale']);
  assert.equal(dec.num_prec_radix, 10);
  assert.equal(rows.find((r) => r.type_name === 'TEXT').create_params, null);
  const ts = rows.find((r) => r.type_name === 'TIMESTAMP');
  assert.deepEqual([ts.sql_data_type, ts.datetime_subcode], [9, 3]);
  const only = await fl.meta('CommandGetXdbcTypeInfo', { dataType: 12 });
  assert.deepEqual([...only.table.getChild('type_name').toArray()], ['TEXT']);
});

test('tickets: used once, cannot be forged, belong to their principal', async () => {
  const fi = await fl.info('CommandStatementQuery', { query: 'SELECT 1 AS x' });
  const ticket = fi.endpoint[0].ticket.ticket;
  assert.equal((await fl.doGet(ticket)).table.getChild('x').get(0), 1n);
  await assert.rejects(fl.doGet(ticket), (e) => e.code === S.NOT_FOUND);
  const forged = (await import('./harness.mjs')).pack('TicketStatementQuery', { statementHandle: Buffer.from('0'.repeat(32)) });
  await assert.rejects(fl.doGet(forged), (e) => e.code === S.NOT_FOUND);
  await assert.rejects(fl.doGet(Buffer.from('garbage')), (e) => e.code === S.INVALID_ARGUMENT);
});

test('prepared statements: parameters bound through DoPut', async () => {
  const [res] = await fl.action('CreatePreparedStatement', 'ActionCreatePreparedStatementRequest',
    { query: 'SELECT customer FROM orders WHERE id = ?' });
  assert.equal(res.type, 'ActionCreatePreparedStatementResult');
  const h = res.msg.preparedStatementHandle;
  assert.equal(res.msg.isUpdate, false);
  assert.ok(res.msg.datasetSchema.length > 0);
  const params = tableFromArrays({ id: BigInt64Array.from([2n]) });
  const put = await fl.put('CommandPreparedStatementQuery', { preparedStatementHandle: h }, flightDataOf(params));
  assert.equal(M('DoPutPreparedStatementResult').decode(put[0].appMetadata).preparedStatementHandle.toString(), h.toString());
  const fi = await fl.info('CommandPreparedStatementQuery', { preparedStatementHandle: h });
  const { table } = await fl.doGet(fi.endpoint[0].ticket.ticket);
  assert.deepEqual(table.toArray().map((r) => r.customer), ['bob']);
  await fl.action('ClosePreparedStatement', 'ActionClosePreparedStatementRequest', { preparedStatementHandle: h });
  await assert.rejects(fl.info('CommandPreparedStatementQuery', { preparedStatementHandle: h }), (e) => e.code === S.NOT_FOUND);
});

test('writes: DoPut updates answered with DoPutUpdateResult, replicated to DuckDB', async () => {
  const r = await fl.put('CommandStatementUpdate', { query: "INSERT INTO orders VALUES (10, 'dee', 1)" });
  assert.equal(Number(M('DoPutUpdateResult').decode(r[0].appMetadata).recordCount), 1);
  const [prep] = await fl.action('CreatePreparedStatement', 'ActionCreatePreparedStatementRequest',
    { query: 'INSERT INTO orders VALUES (?, ?, ?)' });
  assert.equal(prep.msg.isUpdate, true);
  const rows = new Table({ id: vectorFromArray([11n, 12n, 13n], new Int64()),
    c: vectorFromArray(['e', 'f', null], new Utf8()), q: vectorFromArray([1n, 2n, 3n], new Int64()) });
  const r2 = await fl.put('CommandPreparedStatementUpdate', { preparedStatementHandle: prep.msg.preparedStatementHandle }, flightDataOf(rows));
  assert.equal(Number(M('DoPutUpdateResult').decode(r2[0].appMetadata).recordCount), 3);
  const olap = await fl.query('SELECT count(*) AS n, sum(qty) AS s FROM orders WHERE id >= 10',
    { 'x-rhei-hint': 'olap', 'x-rhei-consistency': 'strong' });
  assert.equal(olap.table.schema.metadata.get('rhei.side'), 'olap');
  assert.deepEqual([olap.table.getChild('n').get(0), olap.table.getChild('s').get(0)], [4n, 7n]);
  await assert.rejects(fl.put('CommandStatementUpdate', { query: 'INSERT INTO nope VALUES (1)' }),
    (e) => e.code === S.NOT_FOUND && /nope/.test(e.details));
  const dict = tableFromArrays({ c: ['x'] }); // arrow-js makes a dictionary: refused clearly
  await assert.rejects(fl.put('CommandPreparedStatementUpdate', { preparedStatementHandle: prep.msg.preparedStatementHandle }, flightDataOf(dict)),
    (e) => e.code === S.INVALID_ARGUMENT && /dictionary/.test(e.details));
});

test('compression on request: zstd and lz4 bodies decode to the same rows, fewer bytes', async () => {
  const sql = "SELECT range AS i, 'row ' || (range % 100) AS s FROM range(200000)";
  const bytes = (datas) => datas.reduce((n, d) => n + (d.dataBody?.length ?? 0), 0);
  const plain = await fl.query(sql);
  for (const codec of ['zstd', 'lz4']) {
    const c = await fl.query(sql, { 'x-arrow-compression': codec });
    assert.equal(c.table.numRows, 200000, codec);
    assert.equal(c.table.getChild('s').get(199999), plain.table.getChild('s').get(199999));
    assert.equal(c.table.getChild('i').get(123456), 123456n);
    assert.ok(bytes(c.datas) < bytes(plain.datas) / 2, `${codec}: ${bytes(c.datas)} vs ${bytes(plain.datas)}`);
  }
  for (const d of plain.datas) assert.ok(d.dataBody.length <= 3.5 * 1024 * 1024);
});

test('a client that cancels mid-stream leaves the server healthy', async () => {
  const fi = await fl.info('CommandStatementQuery', { query: "SELECT range AS i, repeat('x', 100) AS s FROM range(300000)" });
  let got = 0;
  await assert.rejects(fl.doGet(fi.endpoint[0].ticket.ticket, {}, (d, call) => { if (++got === 2) call.cancel(); }),
    (e) => e.code === S.CANCELLED);
  const again = await fl.query('SELECT count(*) AS n FROM orders');
  assert.ok(again.table.getChild('n').get(0) >= 3n);
});

test('authentication: refusals are UNAUTHENTICATED; tickets are per principal', async () => {
  const auth = await startServer({ sql: ['CREATE TABLE t(id INTEGER PRIMARY KEY)'], flight: ['port = 0', 'tokens = ["a-token", "b-token"]'] });
  const anon = new Flight(auth.port), a = new Flight(auth.port, { token: 'a-token' }), b = new Flight(auth.port, { token: 'b-token' });
  try {
    await assert.rejects(anon.query('SELECT 1'), (e) => e.code === S.UNAUTHENTICATED);
    await assert.rejects(anon.handshake('ann', 'wrong'), (e) => e.code === S.UNAUTHENTICATED);
    const hs = await anon.handshake('ann', 'a-token');
    const bearer = hs.headers.get('authorization')[0];
    assert.match(bearer, /^Bearer [0-9a-f]{32}$/);
    const session = new Flight(auth.port, { headers: { authorization: bearer } });
    assert.equal((await session.query('SELECT 42 AS x')).table.getChild('x').get(0), 42n);
    const fi = await a.info('CommandStatementQuery', { query: 'SELECT 1 AS x' });
    await assert.rejects(b.doGet(fi.endpoint[0].ticket.ticket), (e) => e.code === S.NOT_FOUND);
    assert.equal((await a.doGet(fi.endpoint[0].ticket.ticket)).table.numRows, 1);
    session.close();
  } finally {
    anon.close(); a.close(); b.close();
    assert.equal((await auth.stop()).code, 0);
  }
});

test('writes are refused unless allow_writes', async () => {
  const ro = await startServer({ sql: ['CREATE TABLE t(id INTEGER PRIMARY KEY)'] });
  const c = new Flight(ro.port);
  try {
    await assert.rejects(c.put('CommandStatementUpdate', { query: 'INSERT INTO t VALUES (1)' }),
      (e) => e.code === S.PERMISSION_DENIED && /allow_writes/.test(e.details));
    const info = (await c.meta('CommandGetSqlInfo', { info: [3] })).table;
    assert.equal(info.getChild('value').get(0), true);
  } finally {
    c.close();
    assert.equal((await ro.stop()).code, 0);
  }
});

test('a non-loopback address without tokens is refused at start', async () => {
  await assert.rejects(startServer({ flight: ['host = "0.0.0.0"', 'port = 0'] }), /without authentication/);
  const open = await startServer({ flight: ['host = "0.0.0.0"', 'port = 0', 'allow_unauthenticated = true'] });
  assert.equal((await open.stop()).code, 0);
});

test('[engine] flight_port alone: a server on 127.0.0.1 that needs no token', async () => {
  const port = await new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => { const p = probe.address().port; probe.close(() => resolve(p)); });
  });
  const s = await startServer({ flight: [], engine: [`flight_port = ${port}`], sql: ['CREATE TABLE t(id INTEGER PRIMARY KEY)'] });
  const c = new Flight(port);
  try {
    assert.equal(s.port, port);
    assert.match(s.log(), new RegExp(`flight sql listening on 127\\.0\\.0\\.1:${port} auth=none`));
    assert.equal((await c.query('SELECT 5 AS x')).table.getChild('x').get(0), 5n);
  } finally {
    c.close();
    assert.equal((await s.stop()).code, 0);
  }
});

test('TLS with cert/key paths: a TLS client gets rows, a plaintext one does not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rhei-tls-'));
  const crt = join(dir, 'server.crt'), key = join(dir, 'server.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt,
    '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
  { stdio: 'ignore', timeout: 60000 });
  const s = await startServer({ flight: ['port = 0', `tls_cert = "${crt}"`, `tls_key = "${key}"`] });
  const tls = new Flight(s.port, { rootCert: readFileSync(crt) }), plain = new Flight(s.port);
  try {
    assert.match(s.log(), /tls=on/);
    assert.equal((await tls.query('SELECT 7 AS x')).table.getChild('x').get(0), 7n);
    await assert.rejects(plain.query('SELECT 7 AS x'), (e) => e.code === S.UNAVAILABLE);
  } finally {
    tls.close(); plain.close();
    assert.equal((await s.stop()).code, 0);
    rmSync(dir, { recursive: true, force: true });
  }
});
