// ipc.test.mjs — Arrow IPC streams written by Rhei's own writer (src/net/arrow), decoded by
// an independent implementation (apache-arrow 21, pinned in package-lock.json): every engine
// type with NULLs from SQLite and DuckDB, 1-row slices (shifted bitmaps, rebased offsets),
// zstd and lz4 bodies, a 100K-row result cut into several batches, and an empty result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC, RecordBatchReader, compressionRegistry, CompressionType } from 'apache-arrow';
import { decompress as zstdDecompress } from 'fzstd';
import lz4 from 'lz4js';

// fzstd returns a view that is not 8-byte aligned: copy it (BigInt64Array needs alignment).
compressionRegistry.set(CompressionType.ZSTD, { decode: (b) => zstdDecompress(b).slice() });
compressionRegistry.set(CompressionType.LZ4_FRAME, { decode: (b) => Uint8Array.from(lz4.decompress(b)) });

const dir = mkdtempSync(join(tmpdir(), 'rhei-ipc-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
execFileSync(process.env.RHEI_IPC_DUMP, [dir], { stdio: 'inherit', timeout: 60000 });
const load = (name) => tableFromIPC(readFileSync(join(dir, `${name}.arrows`)));
const batches = (name) => [...RecordBatchReader.from(readFileSync(join(dir, `${name}.arrows`)))];

const want = [
  { id: 1n, r: 1.5, s: 'one', b: [1, 2], ok: true, d: '12.50', day: Date.UTC(2024, 0, 2), ts: '2024-01-02T03:04:05.000006' },
  { id: 2n, r: null, s: null, b: null, ok: null, d: null, day: null, ts: null },
  { id: 3n, r: -2.25, s: 'three ünïcode', b: [], ok: false, d: '-0.07', day: Date.UTC(1969, 11, 31), ts: '1970-01-01T00:00:00.000000' },
  { id: 4n, r: 0, s: '', b: [255], ok: true, d: '99999999.99', day: Date.UTC(2000, 1, 29), ts: '2038-01-19T03:14:08.000000' },
  { id: 5n, r: 1e300, s: 'five', b: null, ok: null, d: '0.00', day: null, ts: null },
];

// decimal128 as text, from the 16-byte little-endian two's complement value
function decText(v, scale = 2) {
  if (v === null) return null;
  const w = v; // a Uint32Array view of the 128-bit value
  let x = 0n;
  for (let i = 3; i >= 0; i--) x = (x << 32n) | BigInt(w[i] >>> 0);
  if (x >= 1n << 127n) x -= 1n << 128n;
  const neg = x < 0n, a = neg ? -x : x, s = a.toString().padStart(scale + 1, '0');
  return (neg ? '-' : '') + s.slice(0, -scale) + '.' + s.slice(-scale);
}

function tsText(us) {
  if (us === null) return null;
  const big = BigInt(us), ms = Number(big / 1000n), frac = (big % 1000000n).toString().padStart(6, '0');
  return new Date(ms).toISOString().slice(0, 19) + '.' + frac;
}

// duck = false checks a result typed as SQLite stores values (BOOLEAN as INTEGER, DECIMAL as
// REAL, DATE and TIMESTAMP as TEXT); the engine's results are typed by declaration on both sides.
function checkTypes(name, tsRaw, duck = true) {
  const t = load(name);
  assert.equal(t.numRows, want.length, `${name}: rows`);
  assert.deepEqual(t.schema.fields.map((f) => f.name), ['id', 'r', 's', 'b', 'ok', 'd', 'day', 'ts']);
  const dt = t.schema.fields[5].type;
  if (duck) {
    assert.deepEqual([String(dt).slice(0, 7), dt.precision, dt.scale], ['Decimal', 10, 2]);
    assert.equal(t.schema.fields[7].type.timezone, 'UTC');
  } else {
    assert.deepEqual(t.schema.fields.map((f) => String(f.type)),
      ['Int64', 'Float64', 'Utf8', 'Binary', 'Int64', 'Float64', 'Utf8', 'Utf8']);
  }
  for (let i = 0; i < want.length; i++) {
    const w = want[i], row = (c) => t.getChild(c).get(i);
    assert.equal(row('id'), w.id, `${name} row ${i} id`);
    assert.equal(row('r'), w.r, `${name} row ${i} r`);
    assert.equal(row('s'), w.s, `${name} row ${i} s`);
    assert.deepEqual(row('b') === null ? null : [...row('b')], w.b, `${name} row ${i} b`);
    if (!duck) {
      assert.equal(row('ok'), w.ok === null ? null : BigInt(w.ok), `${name} row ${i} ok`);
      assert.equal(row('d'), w.d === null ? null : Number(w.d), `${name} row ${i} d`);
      continue;
    }
    assert.equal(row('ok'), w.ok, `${name} row ${i} ok`);
    assert.equal(decText(row('d')), w.d, `${name} row ${i} d`);
    assert.equal(row('day'), w.day, `${name} row ${i} day`);
    const raw = t.getChild('ts').data.length ? tsRaw(t, i) : null;
    assert.equal(tsText(raw), w.ts, `${name} row ${i} ts`);
  }
}
// the raw int64 microseconds (arrow-js turns timestamps into lossy milliseconds)
const tsMicros = (t, i) => {
  const c = t.getChild('ts');
  if (!c.isValid(i)) return null;
  let at = i;
  for (const d of c.data) {
    if (at < d.length) return d.values[d.offset + at];
    at -= d.length;
  }
};

test('every engine type from SQLite, one row per batch', () => {
  assert.equal(batches('types_oltp').length, 5);
  checkTypes('types_oltp', tsMicros); // one value model: the same types as from DuckDB
});
test('every engine type from DuckDB, one row per batch', () => checkTypes('types_olap', tsMicros));
test('every engine type in one batch', () => {
  assert.equal(batches('types_whole').length, 1);
  checkTypes('types_whole', tsMicros);
});
test('zstd-compressed bodies', () => checkTypes('types_zstd', tsMicros));
test('lz4-frame-compressed bodies', () => checkTypes('types_lz4', tsMicros));

function checkBig(name, minBatches) {
  const bs = batches(name);
  assert.ok(bs.length >= minBatches, `${name}: ${bs.length} batches, want >= ${minBatches}`);
  const t = load(name);
  assert.equal(t.numRows, 100000);
  let sum = 0n, nulls = 0, trues = 0;
  const I = t.getChild('i'), H = t.getChild('h'), S = t.getChild('s'), M = t.getChild('m');
  for (let i = 0; i < t.numRows; i++) {
    const v = I.get(i);
    sum += v;
    if (Number(v) !== i) assert.fail(`${name} row ${i}: i = ${v}`);
    if (S.get(i) !== `row ${i}`) assert.fail(`${name} row ${i}: s = ${S.get(i)}`);
    const m = M.get(i);
    if (m === null) nulls++; else if (m) trues++;
    if ((i % 7 === 0) !== (m === null) || (m !== null && m !== (i % 3 === 0))) assert.fail(`${name} row ${i}: m = ${m}`);
  }
  assert.equal(sum, 4999950000n);
  assert.equal(nulls, 14286);
  assert.equal(trues, 28572);
  assert.equal(H.type.scale, 1);
  assert.equal(decText(H.get(99999), 1), '49999.5');
}
test('100K rows in one 2 MiB-bounded stream', () => checkBig('big', 1));
test('100K rows sliced at 100 KB', () => checkBig('big_sliced', 10));
test('100K rows, zstd', () => checkBig('big_zstd', 10));
test('empty result keeps its schema', () => {
  const t = load('empty');
  assert.equal(t.numRows, 0);
  assert.equal(t.schema.fields.length, 8);
});
