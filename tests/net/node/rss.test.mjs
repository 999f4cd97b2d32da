// rss.test.mjs — a slow client streaming a large result keeps the server's memory bounded:
// DoGet streams rhei_query_arrow's batches (about 1 MiB each) and reads the next one only
// after the last was sent, so the server never holds the result. RSS_ROWS rows (default 10M,
// ~330 MB of Arrow data) go to a client that pauses after every message; the server's peak
// resident memory (VmHWM of its process, measured by the kernel) must stay under 200 MB, and
// every row must arrive exactly once (count and sum of the key column). Under make sanitize
// only the rows are checked (RHEI_SANITIZE=1: ASan's quarantine inflates RSS).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';
import { Flight, ipcFrom, M } from './harness.mjs';
import { startServer, within } from './serve.mjs';

const ROWS = Number(process.env.RSS_ROWS || 10000000);
const LIMIT_MB = 200;
let srv, fl;
before(async () => { srv = await startServer({}); fl = new Flight(srv.port); });
after(async () => { fl.close(); assert.equal((await srv.stop()).code, 0, srv.errors()); });

const kb = (pid, key) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`${key}:\\s+(\\d+)`))[1]);

test(`a slow client streaming ${ROWS} rows: server RSS stays under ${LIMIT_MB} MB`, async () => {
  const sql = `SELECT range AS i, range * 2 AS v, 'row ' || range AS s FROM range(${ROWS})`;
  const fi = await fl.info('CommandStatementQuery', { query: sql }, { 'x-rhei-hint': 'olap' });
  const before = kb(srv.proc.pid, 'VmRSS');
  let schema = null, rows = 0, sum = 0, msgs = 0, maxMsg = 0, maxRss = 0;
  await within(55000, new Promise((resolve, reject) => {
    const call = fl.client.makeServerStreamRequest('/arrow.flight.protocol.FlightService/DoGet',
      (o) => Buffer.from(M('Ticket').encode(M('Ticket').fromObject(o)).finish()), (b) => b,
      { ticket: fi.endpoint[0].ticket.ticket }, fl.md({ 'x-rhei-hint': 'olap' }), fl.opts());
    call.on('data', (buf) => {
      msgs++;
      maxMsg = Math.max(maxMsg, buf.length);
      const d = M('FlightData').decode(buf);
      if (!schema) { schema = d; return; }
      const t = tableFromIPC(ipcFrom([schema, d]));
      rows += t.numRows;
      for (const x of t.getChild('i').toArray()) sum += Number(x);
      maxRss = Math.max(maxRss, kb(srv.proc.pid, 'VmRSS'));
      call.pause(); // a slow reader: the server must wait, not buffer
      setTimeout(() => call.resume(), 10);
    });
    call.on('error', reject);
    call.on('end', resolve);
  }), 'slow DoGet');
  const peak = kb(srv.proc.pid, 'VmHWM');
  console.log(`rows ${rows} in ${msgs} messages (largest ${(maxMsg / 1048576).toFixed(2)} MiB); ` +
    `server RSS before ${(before / 1024).toFixed(0)} MB, max seen ${(maxRss / 1024).toFixed(0)} MB, ` +
    `peak (VmHWM) ${(peak / 1024).toFixed(0)} MB`);
  assert.equal(rows, ROWS);
  assert.equal(sum, (ROWS * (ROWS - 1)) / 2);
  assert.ok(maxMsg <= 3.5 * 1048576, `a message of ${maxMsg} bytes`);
  // ASan's quarantine keeps freed memory resident: under `make sanitize` RSS says nothing
  // about what the server holds, so there the stream is checked, not its memory.
  if (process.env.RHEI_SANITIZE !== '1')
    assert.ok(peak < LIMIT_MB * 1024, `server peak RSS ${(peak / 1024).toFixed(0)} MB`);
});
