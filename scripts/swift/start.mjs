// Starts a throw-away OpenStack Swift (account, container, object and proxy
// servers, proxy with the s3api middleware) on 127.0.0.1, on free ports, for
// integration tests and benchmarks.  Plain Node ESM, no dependencies.
//
//   import { startSwift } from './scripts/swift/start.mjs'
//   const s3 = await startSwift()  // { endpoint, region, bucket, accessKeyId, secretAccessKey, dir, logs, stop }
//   ...
//   await s3.stop()
//
// CLI: `node scripts/swift/start.mjs` prints the JSON and runs until SIGINT/SIGTERM.
// Needs the Debian packages (scripts/swift/install.sh).
import { spawn, execFile } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// Debian's python; `python3` on PATH may be another interpreter (pyenv) without swift.
const PYTHON = '/usr/bin/python3';
const HOST = '127.0.0.1';
const SERVERS = ['account', 'container', 'object', 'proxy'];
const STARTUP_TIMEOUT_MS = 30_000;
// eventlet's green DNS pulls in dnspython/httpx: ~0.6 s of imports per process, and we
// only ever use IP addresses.
const PY_ENV = { ...process.env, EVENTLET_NO_GREENDNS: 'yes' };

// Swift hard-codes /etc/swift/swift.conf (hash suffix, policies, constraints).  To
// use our own swift.conf without touching /etc, this prelude points swift at the
// temp dir before any other swift module is imported, then runs the real
// /usr/bin/swift-*-server script.  PR_SET_PDEATHSIG makes the server die with
// us if Node is killed without running stop().
const LAUNCHER = `
import ctypes, runpy, signal, sys
ctypes.CDLL(None).prctl(1, signal.SIGKILL)
from swift.common.utils import set_swift_dir
set_swift_dir(sys.argv[1])
sys.argv = sys.argv[2:]
runpy.run_path(sys.argv[0], run_name='__main__')
`;

// Same result as `swift-ring-builder X.builder create 8 1 1; ... add ...; ... rebalance`
// but all in one interpreter: each swift-ring-builder run costs ~1.5 s of imports.
const RING_BUILDER = `
import sys
from swift.cli.ringbuilder import main
for spec in sys.argv[1:]:
    builder, dev = spec.split('=')
    for args in (['create', '8', '1', '1'], ['add', dev, '100'], ['rebalance']):
        try:
            main(['swift-ring-builder', builder] + args)
        except SystemExit as e:
            if e.code not in (None, 0):
                sys.exit('swift-ring-builder %s %s failed: %s' % (builder, ' '.join(args), e.code))
`;

function listen(server, ...args) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(...args, () => resolve(server.address().port));
  });
}

async function freePort() {
  const srv = net.createServer();
  const port = await listen(srv, 0, HOST);
  await new Promise((r) => srv.close(r));
  return port;
}

function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Minimal HTTP client with a hard timeout; resolves { status, headers, body: Buffer }. */
export function request(method, url, { headers = {}, body, timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => createHmac('sha256', key).update(data).digest();
// RFC 3986 encoding as SigV4 wants it (encodeURIComponent leaves !'()* alone).
const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

/**
 * AWS SigV4 for S3, path style.  Header auth by default; with `expires` set it
 * returns a presigned URL (query auth, UNSIGNED-PAYLOAD) whose signed headers
 * are host + the given `headers`, which the caller must then send unchanged.
 * Returns { url, headers } (headers include host-independent auth headers).
 */
export function signV4({ method, url, headers = {}, body = '', accessKeyId, secretAccessKey, region = 'us-east-1', expires, date = new Date() }) {
  const u = new URL(url);
  const amzDate = date.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  const scope = `${amzDate.slice(0, 8)}/${region}/s3/aws4_request`;
  const hdrs = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v).trim()]));
  hdrs.host = u.host;
  let payloadHash = 'UNSIGNED-PAYLOAD';
  if (expires === undefined) {
    payloadHash = sha256(body);
    hdrs['x-amz-date'] = amzDate;
    hdrs['x-amz-content-sha256'] = payloadHash; // s3api refuses header-auth v4 without it
  }
  const signedHeaders = Object.keys(hdrs).sort().join(';');
  if (expires !== undefined) {
    u.searchParams.set('X-Amz-Algorithm', 'AWS4-HMAC-SHA256');
    u.searchParams.set('X-Amz-Credential', `${accessKeyId}/${scope}`);
    u.searchParams.set('X-Amz-Date', amzDate);
    u.searchParams.set('X-Amz-Expires', String(expires));
    u.searchParams.set('X-Amz-SignedHeaders', signedHeaders);
  }
  const query = [...u.searchParams].map(([k, v]) => [enc(k), enc(v)]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`).join('&');
  const canonicalPath = u.pathname.split('/').map((s) => enc(decodeURIComponent(s))).join('/');
  const canonical = [method, canonicalPath, query, ...Object.keys(hdrs).sort().map((k) => `${k}:${hdrs[k]}`), '', signedHeaders, payloadHash].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = ['s3', 'aws4_request'].reduce(hmac, hmac(hmac('AWS4' + secretAccessKey, amzDate.slice(0, 8)), region));
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  delete hdrs.host; // node sets Host itself from the URL
  if (expires !== undefined) {
    u.search = query + `&X-Amz-Signature=${signature}`;
    return { url: u.toString(), headers: hdrs };
  }
  hdrs.authorization = `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return { url: u.toString(), headers: hdrs };
}

function configs({ dir, ports, logPorts, memcachePort, corsOrigin }) {
  const common = (name) => `[DEFAULT]
bind_ip = ${HOST}
bind_port = ${ports[name]}
workers = 0
user = ${os.userInfo().username}
swift_dir = ${dir}
devices = ${dir}/devices
mount_check = false
# a port collision should fail fast (we retry with new ports), not after 30 s
bind_timeout = 2
# no /dev/log here and syslog's default is UDP localhost:514: send logs to our own sink
log_udp_host = ${HOST}
log_udp_port = ${logPorts[name]}
log_level = INFO
`;
  const backend = (name) => `${common(name)}
[pipeline:main]
pipeline = healthcheck ${name}-server

[filter:healthcheck]
use = egg:swift#healthcheck

[app:${name}-server]
use = egg:swift#${name}
`;
  return {
    'swift.conf': `[swift-hash]
swift_hash_path_suffix = ${randomBytes(16).toString('hex')}
swift_hash_path_prefix = ${randomBytes(16).toString('hex')}

[storage-policy:0]
name = Policy-0
default = yes
`,
    // Only the WSGI servers are started: no replicators/auditors/updaters exist to run.
    'account.conf': backend('account'),
    'container.conf': backend('container'),
    // An object server that cannot reach the container server within container_update_timeout
    // (1 s by default) leaves the listing update to an updater, and none runs here: an aborted
    // upload would stay listed for good. Under a loaded test run, wait for the update instead.
    'object.conf': `${backend('object')}container_update_timeout = 30
`,
    'proxy.conf': `${common('proxy')}
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
# tempauth users' accounts do not exist until first use
account_autocreate = true
# CORS on actual (non-preflight) responses.  strict_cors_mode stays on (default):
# '*' matches every Origin, a specific corsOrigin is then really enforced.
# etag is exposed by default; be explicit anyway.  Content-Range: downloads read it from
# ranged GETs (206).  Preflights (s3api's cors_preflight_allow_origin) allow whatever headers
# are asked for, so Range and If-Match on a read key pass.
cors_allow_origin = ${corsOrigin}
cors_expose_headers = ETag, Content-Range

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache
# Swift has no in-process cache: without memcached every lookup just misses (and is
# logged).  Point it at a port we hold open and reset, so a memcached that may run on
# 11211 is never shared between instances (stale bucket info across test runs).
memcache_servers = ${HOST}:${memcachePort}

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:s3api]
use = egg:swift#s3api
location = us-east-1
s3_acl = false
# S3 limits: parts >= 5 MiB except the last, up to 10000 parts
min_segment_size = 5242880
max_upload_part_num = 10000
cors_preflight_allow_origin = ${corsOrigin}

[filter:tempauth]
use = egg:swift#tempauth
# S3 access key test:tester, secret testing
user_test_tester = testing .admin

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo
max_manifest_segments = 10000

[filter:dlo]
use = egg:swift#dlo
`,
  };
}

async function startOnce({ dir, corsOrigin, bucket }) {
  fs.mkdirSync(path.join(dir, 'devices', 'd1'), { recursive: true });
  const cleanups = [];
  const children = new Map();
  const logs = Object.fromEntries(SERVERS.map((n) => [n, path.join(dir, `${n}.log`)]));
  let exited = null; // set to a { name, code } when a server dies
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let failed = false; // ends the health polling once start-up has failed

  const stop = async () => {
    await Promise.all([...children.values()].map((child) => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('exit', () => { clearTimeout(timer); resolve(); });
      child.kill('SIGTERM');
    })));
    for (const fn of cleanups.splice(0)) fn();
  };

  try {
    // Log sink: swift's syslog handler sends UDP datagrams here; they are appended
    // to the same file as the server's stdout/stderr (early errors, tracebacks).
    const logPorts = {};
    for (const name of SERVERS) {
      const fd = fs.openSync(logs[name], 'a');
      const sock = dgram.createSocket('udp4');
      sock.on('message', (msg) => fs.writeSync(fd, msg.toString().replace(/^<\d+>/, '').replace(/\0$/, '').trimEnd() + '\n'));
      logPorts[name] = await new Promise((resolve, reject) => {
        sock.once('error', reject);
        sock.bind(0, HOST, () => resolve(sock.address().port));
      });
      sock.unref();
      cleanups.push(() => { sock.close(); fs.closeSync(fd); });
    }
    const memcache = net.createServer((s) => s.destroy());
    const memcachePort = await listen(memcache, 0, HOST);
    memcache.unref();
    cleanups.push(() => memcache.close());

    const ports = {};
    for (const name of SERVERS) ports[name] = await freePort();
    for (const [file, text] of Object.entries(configs({ dir, ports, logPorts, memcachePort, corsOrigin }))) {
      fs.writeFileSync(path.join(dir, file), text);
    }

    let onExit;
    const died = new Promise((_, reject) => { onExit = reject; });
    died.catch(() => {});
    const launch = (name) => {
      const fd = fs.openSync(logs[name], 'a');
      const child = spawn(PYTHON, ['-c', LAUNCHER, dir, `/usr/bin/swift-${name}-server`, path.join(dir, `${name}.conf`)],
        { stdio: ['ignore', fd, fd], cwd: dir, env: PY_ENV });
      fs.closeSync(fd);
      children.set(name, child);
      child.on('error', (e) => { exited ??= { name, code: e.message }; onExit(exited); });
      child.on('exit', (code, signal) => { exited ??= { name, code: code ?? signal }; onExit(exited); });
    };

    // Backend servers never read the rings, so they boot while the rings are built;
    // only the proxy needs them.
    ['account', 'container', 'object'].forEach(launch);
    await Promise.race([died, new Promise((resolve, reject) => {
      const specs = ['account', 'container', 'object'].map((n) => `${dir}/${n}.builder=r1z1-${HOST}:${ports[n]}/d1`);
      execFile(PYTHON, ['-c', RING_BUILDER, ...specs], { cwd: dir, env: PY_ENV, timeout: 20_000 }, (err, stdout, stderr) => {
        fs.writeFileSync(path.join(dir, 'rings.log'), stdout + stderr);
        if (err) reject(new Error(`building rings failed: ${err.message}\n${stderr}`));
        else resolve();
      });
    })]);
    launch('proxy');

    const endpoint = `http://${HOST}:${ports.proxy}`;
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    // All four must be up: the proxy's healthcheck does not look at the backends.
    const up = async (name) => {
      while (!failed) {
        if (Date.now() > deadline) throw new Error(`timeout: ${name} server not answering /healthcheck within ${STARTUP_TIMEOUT_MS / 1000} s`);
        const res = await request('GET', `http://${HOST}:${ports[name]}/healthcheck`, { timeoutMs: 2000 }).catch(() => null);
        if (res?.status === 200) return;
        await sleep(100);
      }
    };
    await Promise.race([died, Promise.all(SERVERS.map(up))]);

    const creds = { accessKeyId: 'test:tester', secretAccessKey: 'testing', region: 'us-east-1' };
    const signed = signV4({ method: 'PUT', url: `${endpoint}/${bucket}`, ...creds });
    const res = await Promise.race([died, request('PUT', signed.url, { headers: signed.headers, timeoutMs: Math.max(2000, deadline - Date.now()) })]);
    if (res.status !== 200) throw new Error(`creating bucket ${bucket} failed: HTTP ${res.status} ${res.body}`);
    return { endpoint, region: creds.region, bucket, accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, dir, logs, stop };
  } catch (err) {
    failed = true;
    const early = exited; // read before stop() makes every server exit
    await stop();
    exited = early;
    const name = exited?.name ?? 'proxy';
    const why = exited ? `${name} server exited early (${exited.code})` : err.message;
    const e = new Error(`Swift did not start: ${why}\n--- tail of ${logs[name]} ---\n${tail(logs[name])}`);
    e.portClash = /Could not bind|Address already in use/.test(tail(logs[name], 200));
    throw e;
  }
}

/**
 * Start Swift + s3api on 127.0.0.1.  Never hangs: rejects with the tail of the
 * failing server's log if a server exits or is not up within 30 s.
 */
export async function startSwift({ dir, corsOrigin = '*', bucket = 'valet-test' } = {}) {
  for (let attempt = 1; ; attempt++) {
    const stateDir = fs.mkdtempSync(path.join(dir ?? os.tmpdir(), 'swift-'));
    try {
      const swift = await startOnce({ dir: stateDir, corsOrigin, bucket });
      const stop = swift.stop;
      let stopped;
      swift.stop = () => (stopped ??= stop().finally(() => fs.rmSync(stateDir, { recursive: true, force: true })));
      return swift;
    } catch (err) {
      // Ports are picked before the servers bind them; another process can win the race.
      if (!(err.portClash && attempt < 3)) {
        err.message += `\n(state kept in ${stateDir})`;
        throw err;
      }
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const swift = await startSwift();
  const { stop, ...info } = swift;
  console.log(JSON.stringify(info, null, 2));
  const shutdown = () => stop().then(() => process.exit(0), () => process.exit(1));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  setInterval(() => {}, 1 << 30); // stay alive until signalled
}
