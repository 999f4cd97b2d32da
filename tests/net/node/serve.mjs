// serve.mjs — starts a real `rh serve --headless` with a Flight SQL server on 127.0.0.1:0
// over a fresh SQLite file, and finds its port in the log line. Every wait has a timeout.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const RH = process.env.RH;

// Fails the promise after ms: the lakehouse client can hang forever after a server error.
export function within(ms, promise, what = 'call') {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

// sql: statements run with rh exec before serving; flight: the [flight] table lines; env:
// variables added to the server's environment.
export async function startServer({ sql = [], flight = ['port = 0'], engine = [], env = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rhei-flight-'));
  const db = join(dir, 'shop.db');
  for (const s of sql) execFileSync(RH, ['exec', '--db', db, s], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60000 });
  const cfg = join(dir, 'rhei.toml');
  writeFileSync(cfg, ['[engine]', `oltp_path = "${db}"`, `olap_path = "${db}.duckdb"`,
    'sync_interval_ms = 50', ...engine, ...(flight.length ? ['[flight]', ...flight] : [])].join('\n') + '\n');
  const proc = spawn(RH, ['serve', '--config', cfg, '--headless'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '', err = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const port = await within(30000, new Promise((resolve, reject) => {
    const look = () => {
      const m = out.match(/flight sql listening on [^ ]+:(\d+)/);
      if (m) return resolve(Number(m[1]));
      if (proc.exitCode !== null) return reject(new Error(`rh serve exited: ${err}`));
      setTimeout(look, 20);
    };
    look();
  }), 'rh serve start');
  const stop = async () => {
    if (proc.exitCode === null) proc.kill('SIGTERM');
    const r = await within(30000, exited, 'rh serve stop');
    rmSync(dir, { recursive: true, force: true });
    return r;
  };
  return { port, dir, db, cfg, proc, stop, log: () => out, errors: () => err, exited };
}
