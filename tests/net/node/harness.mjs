// harness.mjs — a Flight SQL client on @grpc/grpc-js + protobufjs (messages from the
// server's own src/net/flight/flight.proto, wire-compatible with Flight.proto/FlightSql.proto)
// + apache-arrow, for what the lakehouse client cannot do: GetSqlInfo, DoPut, parameters,
// compression, status codes, cancellation, exact metadata schemas. Every call has a deadline.
import grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { tableFromIPC, tableToIPC, compressionRegistry, CompressionType } from 'apache-arrow';
import { decompress as zstdDecompress } from 'fzstd';
import lz4 from 'lz4js';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

compressionRegistry.set(CompressionType.ZSTD, { decode: (b) => zstdDecompress(b).slice() });
compressionRegistry.set(CompressionType.LZ4_FRAME, { decode: (b) => Uint8Array.from(lz4.decompress(b)) });

const here = dirname(fileURLToPath(import.meta.url));
const root = protobuf.loadSync(join(here, '../../../src/net/flight/flight.proto'));
const M = (name) => root.lookupType(`rhei.flight.${name}`);
const SVC = '/arrow.flight.protocol.FlightService/';
const PREFIX = 'type.googleapis.com/arrow.flight.protocol.sql.';
const DEADLINE_MS = 90000; // generous: CI machines can be heavily loaded

export const pack = (type, obj) => M('Any').encode({ typeUrl: PREFIX + type, value: M(type).encode(M(type).fromObject(obj)).finish() }).finish();
export function unpack(bytes) {
  const a = M('Any').decode(bytes);
  const type = a.typeUrl.slice(PREFIX.length);
  return { type, msg: M(type).decode(a.value) };
}
const ser = (type) => (obj) => Buffer.from(M(type).encode(M(type).fromObject(obj)).finish());
const de = (type) => (buf) => M(type).decode(buf);
const raw = (b) => b;

// Arrow IPC stream bytes from FlightData messages (header padded to 8, then body).
export function ipcFrom(datas) {
  const parts = [];
  for (const d of datas) {
    const h = d.dataHeader ?? new Uint8Array(), body = d.dataBody ?? new Uint8Array();
    if (!h.length) continue;
    const pad = (8 - (h.length % 8)) % 8, pre = Buffer.alloc(8);
    pre.writeUInt32LE(0xffffffff, 0);
    pre.writeInt32LE(h.length + pad, 4);
    parts.push(pre, Buffer.from(h), Buffer.alloc(pad), Buffer.from(body));
  }
  parts.push(Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]));
  return Buffer.concat(parts);
}

// Splits an IPC stream into FlightData {dataHeader, dataBody} (reads Message.bodyLength).
export function flightDataOf(table) {
  const buf = Buffer.from(tableToIPC(table, 'stream'));
  const out = [];
  for (let at = 0; at + 8 <= buf.length;) {
    let len = buf.readInt32LE(at + 4);
    if (buf.readUInt32LE(at) !== 0xffffffff) len = buf.readInt32LE(at);
    if (len === 0) break;
    const meta = buf.subarray(at + 8, at + 8 + len);
    const rootOff = meta.readUInt32LE(0), vt = rootOff - meta.readInt32LE(rootOff);
    const vtLen = meta.readUInt16LE(vt), f3 = vtLen > 10 ? meta.readUInt16LE(vt + 10) : 0;
    const bodyLen = f3 ? Number(meta.readBigInt64LE(rootOff + f3)) : 0;
    out.push({ dataHeader: meta, dataBody: buf.subarray(at + 8 + len, at + 8 + len + bodyLen) });
    at += 8 + len + bodyLen;
  }
  return out;
}

export class Flight {
  constructor(port, { headers = {}, token, rootCert } = {}) {
    const creds = rootCert ? grpc.credentials.createSsl(rootCert) : grpc.credentials.createInsecure();
    this.client = new grpc.Client(`127.0.0.1:${port}`, creds, rootCert ? { 'grpc.ssl_target_name_override': 'localhost' } : {});
    this.headers = { ...headers };
    if (token) this.headers.authorization = `Bearer ${token}`;
  }
  close() { this.client.close(); }
  md(extra = {}) {
    const m = new grpc.Metadata();
    for (const [k, v] of Object.entries({ ...this.headers, ...extra })) m.set(k, v);
    return m;
  }
  opts() { return { deadline: Date.now() + DEADLINE_MS }; }
  unary(method, reqType, resType, req, extra) {
    return new Promise((resolve, reject) => this.client.makeUnaryRequest(SVC + method, ser(reqType),
      de(resType), req, this.md(extra), this.opts(), (err, res) => (err ? reject(err) : resolve(res))));
  }
  stream(method, reqType, resType, req, extra, onMessage) {
    return new Promise((resolve, reject) => {
      const call = this.client.makeServerStreamRequest(SVC + method, ser(reqType),
        resType ? de(resType) : raw, req, this.md(extra), this.opts());
      const out = [];
      call.on('data', (d) => { out.push(d); if (onMessage) onMessage(d, call); });
      call.on('error', reject);
      call.on('end', () => resolve(out));
    });
  }
  bidi(method, reqType, resType, reqs, extra) {
    return new Promise((resolve, reject) => {
      const call = this.client.makeBidiStreamRequest(SVC + method, ser(reqType), de(resType),
        this.md(extra), this.opts());
      const out = [];
      let head;
      call.on('metadata', (m) => { head = m; });
      call.on('data', (d) => out.push(d));
      call.on('error', reject);
      call.on('end', () => resolve({ messages: out, headers: head }));
      for (const r of reqs) call.write(r);
      call.end();
    });
  }
  handshake(user, pass) {
    const basic = Buffer.from(`${user}:${pass}`).toString('base64');
    return this.bidi('Handshake', 'HandshakeRequest', 'HandshakeResponse', [{}], { authorization: `Basic ${basic}` });
  }
  info(cmdType, cmd, extra) {
    return this.unary('GetFlightInfo', 'FlightDescriptor', 'FlightInfo', { type: 2, cmd: pack(cmdType, cmd) }, extra);
  }
  schema(cmdType, cmd, extra) {
    return this.unary('GetSchema', 'FlightDescriptor', 'SchemaResult', { type: 2, cmd: pack(cmdType, cmd) }, extra);
  }
  async doGet(ticket, extra, onMessage) {
    const datas = await this.stream('DoGet', 'Ticket', 'FlightData', { ticket }, extra, onMessage);
    return { table: tableFromIPC(ipcFrom(datas)), datas };
  }
  // GetFlightInfo then DoGet of its one endpoint.
  async query(sql, extra) {
    const fi = await this.info('CommandStatementQuery', { query: sql }, extra);
    return { info: fi, ...(await this.doGet(fi.endpoint[0].ticket.ticket, extra)) };
  }
  async meta(cmdType, cmd = {}, extra) {
    const fi = await this.info(cmdType, cmd, extra);
    const got = await this.doGet(fi.endpoint[0].ticket.ticket, extra);
    return { info: fi, table: got.table, infoSchema: tableFromIPC(Buffer.concat([Buffer.from(fi.schema), Buffer.alloc(8)])).schema };
  }
  async action(type, bodyType, body) {
    const res = await this.stream('DoAction', 'Action', 'Result', { type, body: pack(bodyType, body) });
    return res.map((r) => (r.body && r.body.length ? unpack(r.body) : null));
  }
  async put(cmdType, cmd, datas = [], extra) {
    const first = { flightDescriptor: { type: 2, cmd: pack(cmdType, cmd) } };
    const msgs = datas.length ? [{ ...first, ...datas[0] }, ...datas.slice(1)] : [first];
    const { messages } = await this.bidi('DoPut', 'FlightData', 'PutResult', msgs, extra);
    return messages;
  }
}
export { M, grpc };
