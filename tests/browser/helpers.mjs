// Servers and browser for the runtime tests: the kmh binary (kmh serve,
// kmh package), a static server for the host page and the package, and
// Debian's Chromium through playwright-core. Everything listens on
// 127.0.0.1 and is stopped by the test that started it.
import { spawn, execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../..');
export const KMH = process.env.KMH_BIN || path.join(repo, 'target/debug/kmh');

export function tmpdir(prefix) { return fs.mkdtempSync(path.join(os.tmpdir(), prefix)); }

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

export function kmh(args) {
  return execFileSync(KMH, args, { cwd: repo, encoding: 'utf8', env: { ...process.env, KMH_LOG: 'warn' } });
}

/**
 * `kmh serve` on 127.0.0.1:port with data in dir; resolves once it answers.
 * Learners keep their identifiers (the tests compare them) unless
 * `pseudonymise` is set; `extra` are more arguments (e.g. `--courses`).
 */
export async function startLrs(port, dir, { pseudonymise = false, extra = [] } = {}) {
  const args = ['serve', '--listen', `127.0.0.1:${port}`, '--data', dir, `--pseudonymise=${pseudonymise}`, ...extra];
  const child = spawn(KMH, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const deadline = Date.now() + 20000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`kmh serve exited: ${out}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/xapi/about`);
      if (r.ok) break;
    } catch { /* not yet */ }
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`kmh serve did not start: ${out}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    url: `http://127.0.0.1:${port}/xapi/`,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGINT');
    }),
  };
}

/** Unpacks a zip (stored or deflated entries, as kmh writes them). */
export function unzip(file, to) {
  const b = fs.readFileSync(file);
  let eocd = b.length - 22;
  while (b.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  const count = b.readUInt16LE(eocd + 10);
  let p = b.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    const method = b.readUInt16LE(p + 10);
    const size = b.readUInt32LE(p + 20);
    const nameLen = b.readUInt16LE(p + 28), extra = b.readUInt16LE(p + 30), comment = b.readUInt16LE(p + 32);
    const local = b.readUInt32LE(p + 42);
    const name = b.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    p += 46 + nameLen + extra + comment;
    const start = local + 30 + b.readUInt16LE(local + 26) + b.readUInt16LE(local + 28);
    const data = b.subarray(start, start + size);
    const target = path.join(to, name);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (!name.endsWith('/')) fs.writeFileSync(target, method === 8 ? zlib.inflateRawSync(data) : data);
  }
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml' };

/** Static server: /host.html, /scorm-again/*, /pkg/* (the unpacked package). */
export async function startStatic(pkgDir) {
  const roots = { '/pkg/': pkgDir, '/scorm-again/': path.join(here, 'node_modules/scorm-again/dist'), '/': here };
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const prefix = Object.keys(roots).find((r) => url.startsWith(r));
    const file = path.join(roots[prefix], url.slice(prefix.length));
    if (!file.startsWith(roots[prefix]) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404); return res.end('not found');
    }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-store' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, stop: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

export async function startBrowser() {
  const profile = tmpdir('kmh-chromium-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return { context, stop: async () => { await context.close(); fs.rmSync(profile, { recursive: true, force: true }); } };
}

/** Every statement the LRS holds, oldest first (follows `more`). */
export async function statements(lrsUrl, admin) {
  const auth = 'Basic ' + Buffer.from(`${admin.key}:${admin.secret}`).toString('base64');
  const headers = { Authorization: auth, 'X-Experience-API-Version': '1.0.3' };
  const base = new URL(lrsUrl);
  let next = `${lrsUrl}statements?limit=100&ascending=true`;
  const all = [];
  while (next) {
    const r = await fetch(next, { headers });
    if (!r.ok) throw new Error(`GET statements: ${r.status} ${await r.text()}`);
    const body = await r.json();
    all.push(...body.statements);
    next = body.more ? new URL(body.more, base.origin).href : null;
  }
  return all;
}

export async function adminCredential(dataDir) {
  const out = JSON.parse(kmh(['creds', 'add', '--data', dataDir, '--scope', 'all', '--json', '--label', 'browser tests']));
  return { key: out.key ?? out.info?.key, secret: out.secret };
}

export function buildPackage(lrsUrl, dataDir, target, { lang = 'en', source = path.join(repo, 'tests/fixtures/package/demo-course'), extra = [] } = {}) {
  const out = tmpdir('kmh-pkg-');
  kmh(['package', source, '--target', target, '--lang', lang,
    '--out', out, '--lrs', lrsUrl, '--lrs-data', dataDir, ...extra]);
  const zip = fs.readdirSync(out).find((f) => f.endsWith('.zip'));
  const dir = path.join(out, 'unpacked');
  unzip(path.join(out, zip), dir);
  return { dir, out };
}
