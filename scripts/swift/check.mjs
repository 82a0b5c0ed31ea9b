// Self-check of the Swift/s3api harness: starts Swift and exercises, with raw
// SigV4 requests, what the project relies on (multipart upload with presigned
// part URLs, refusals, CORS).  Prints a table; exits non-zero on any failure.
//   node scripts/swift/check.mjs
import { createHash, randomBytes } from 'node:crypto';
import { request, signV4, startSwift } from './start.mjs';

const MiB = 1024 * 1024;
const md5b64 = (buf) => createHash('md5').update(buf).digest('base64');
const md5hex = (buf) => createHash('md5').update(buf).digest('hex');
const xml = (body, tag) => body.toString().match(new RegExp(`<${tag}>([^<]*)</${tag}>`))?.[1];
const rows = [];
let failures = 0;

function record(step, expected, res, extra = '') {
  const code = res.status >= 300 ? xml(res.body, 'Code') ?? '' : '';
  const ok = res.status === expected.status && (!expected.code || code === expected.code);
  if (!ok) failures++;
  rows.push({ ok: ok ? 'ok' : 'FAIL', step, expected: `${expected.status} ${expected.code ?? ''}`.trim(), got: `${res.status} ${code}`.trim(), note: extra });
  if (!ok) console.error(`FAIL ${step}: ${res.status}\n${res.body.toString().slice(0, 500)}`);
  return res;
}
function assert(step, cond, note = '') {
  if (!cond) failures++;
  rows.push({ ok: cond ? 'ok' : 'FAIL', step, expected: 'true', got: String(Boolean(cond)), note });
}

const t0 = performance.now();
const swift = await startSwift();
const startupMs = Math.round(performance.now() - t0);
const creds = { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey, region: swift.region };
const base = `${swift.endpoint}/${swift.bucket}`;

// Header-signed request (what an SDK on the server side does).
async function s3(method, path, { headers = {}, body } = {}) {
  const signed = signV4({ method, url: base + path, headers, body: body ?? '', ...creds });
  return request(method, signed.url, { headers: signed.headers, body });
}
// Presigned URL (what a browser gets); `signHeaders` are signed and must be sent as-is.
function presign(method, path, signHeaders, { expires = 900, date } = {}) {
  return signV4({ method, url: base + path, headers: signHeaders, expires, date, ...creds }).url;
}

async function createUpload(key) {
  const res = record(`CreateMultipartUpload ${key}`, { status: 200 }, await s3('POST', `/${key}?uploads`));
  return xml(res.body, 'UploadId');
}
// UploadPart through a presigned URL with host;content-length;content-md5 signed.
async function uploadPart(key, uploadId, n, data, { signedMd5 = md5b64(data), sentMd5 = signedMd5, expires, date, origin } = {}) {
  const url = presign('PUT', `/${key}?partNumber=${n}&uploadId=${uploadId}`,
    { 'content-length': data.length, 'content-md5': signedMd5 }, { expires, date });
  const headers = { 'content-length': data.length, 'content-md5': sentMd5, ...(origin && { origin }) };
  return request('PUT', url, { headers, body: data });
}
const completeXml = (parts) => `<CompleteMultipartUpload>${parts
  .map(([n, etag]) => `<Part><PartNumber>${n}</PartNumber><ETag>${etag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;

try {
  // --- happy path: 5 MiB + 1 MiB, presigned parts, complete, read back ---
  const key = 'dir/big object.bin'; // space and slash: exercises canonical URI encoding
  const ekey = 'dir/big%20object.bin';
  const p1 = randomBytes(5 * MiB), p2 = randomBytes(1 * MiB);
  const uploadId = await createUpload(ekey);
  const r1 = record('UploadPart 1 (5 MiB, presigned, md5 signed)', { status: 200 }, await uploadPart(ekey, uploadId, 1, p1, { origin: 'http://app.example' }));
  assert('  part ETag is quoted md5', r1.headers.etag === `"${md5hex(p1)}"`, `ETag: ${r1.headers.etag}`);
  assert('  part PUT exposes ETag to CORS', /(^|,\s*)etag(,|$)/i.test(r1.headers['access-control-expose-headers'] ?? ''),
    `ACAO: ${r1.headers['access-control-allow-origin']}; ACEH: ${r1.headers['access-control-expose-headers']}`);
  const r2 = record('UploadPart 2 (1 MiB, last, presigned)', { status: 200 }, await uploadPart(ekey, uploadId, 2, p2));

  record('UploadPart wrong Content-MD5 (signed)', { status: 400, code: 'BadDigest' },
    await uploadPart(ekey, uploadId, 3, p2, { signedMd5: md5b64(p1) }));
  record('UploadPart Content-MD5 differs from signed one', { status: 403, code: 'SignatureDoesNotMatch' },
    await uploadPart(ekey, uploadId, 3, p2, { sentMd5: md5b64(p1) }));
  record('UploadPart expired presigned URL', { status: 403, code: 'AccessDenied' },
    await uploadPart(ekey, uploadId, 3, p2, { expires: 60, date: new Date(Date.now() - 120_000) }));
  record('UploadPart X-Amz-Expires > 604800', { status: 400, code: 'AuthorizationQueryParametersError' },
    await uploadPart(ekey, uploadId, 3, p2, { expires: 604801 }));

  const lp = record('ListParts', { status: 200 }, await s3('GET', `/${ekey}?uploadId=${uploadId}`));
  const listed = [...lp.body.toString().matchAll(/<PartNumber>(\d+)<\/PartNumber>.*?<ETag>([^<]*)<\/ETag><Size>(\d+)<\/Size>/gs)];
  assert('  ListParts shows parts 1,2 with sizes', listed.map((m) => `${m[1]}:${m[3]}`).join(',') === `1:${p1.length},2:${p2.length}`,
    listed.map((m) => `${m[1]}:${m[2]}:${m[3]}`).join(' '));

  const done = record('CompleteMultipartUpload', { status: 200 },
    await s3('POST', `/${ekey}?uploadId=${uploadId}`, { body: completeXml([[1, r1.headers.etag], [2, r2.headers.etag]]) }));
  assert('  Complete ETag is "md5-of-md5s-2"', xml(done.body, 'ETag')?.replace(/&quot;/g, '"') ===
    `"${md5hex(Buffer.concat([p1, p2].map((p) => createHash('md5').update(p).digest())))}-2"`, `ETag: ${xml(done.body, 'ETag')}`);
  const got = record('GetObject', { status: 200 }, await s3('GET', `/${ekey}`));
  assert('  body equals uploaded bytes', got.body.equals(Buffer.concat([p1, p2])), `${got.body.length} bytes, ETag: ${got.headers.etag}`);
  const head = record('HeadObject', { status: 200 }, await s3('HEAD', `/${ekey}`));
  assert('  HEAD ETag equals Complete ETag', head.headers.etag === xml(done.body, 'ETag')?.replace(/&quot;/g, '"'), `ETag: ${head.headers.etag}`);

  // --- abort, then the upload is gone ---
  const abortId = await createUpload('aborted');
  record('UploadPart (to be aborted)', { status: 200 }, await uploadPart('aborted', abortId, 1, p2));
  record('AbortMultipartUpload', { status: 204 }, await s3('DELETE', `/aborted?uploadId=${abortId}`));
  record('ListParts after abort', { status: 404, code: 'NoSuchUpload' }, await s3('GET', `/aborted?uploadId=${abortId}`));

  // --- non-last part under 5 MiB ---
  const smallId = await createUpload('small');
  const s1 = await uploadPart('small', smallId, 1, p2);
  const s2 = await uploadPart('small', smallId, 2, p2);
  record('Complete with 1 MiB non-last part', { status: 400, code: 'EntityTooSmall' },
    await s3('POST', `/small?uploadId=${smallId}`, { body: completeXml([[1, s1.headers.etag], [2, s2.headers.etag]]) }));
  await s3('DELETE', `/small?uploadId=${smallId}`);

  // --- CORS ---
  const origin = 'http://app.example';
  const pre = record('OPTIONS preflight (presigned URL)', { status: 200 }, await request('OPTIONS',
    presign('PUT', `/${ekey}?partNumber=1&uploadId=${uploadId}`, { 'content-md5': 'x' }),
    { headers: { origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-md5,content-type' } }));
  assert('  preflight Allow-Origin/Methods/Headers', pre.headers['access-control-allow-origin'] === origin &&
    /PUT/.test(pre.headers['access-control-allow-methods']) && /content-md5/.test(pre.headers['access-control-allow-headers'] ?? ''),
    `ACAO: ${pre.headers['access-control-allow-origin']}; ACAM: ${pre.headers['access-control-allow-methods']}; ACAH: ${pre.headers['access-control-allow-headers']}`);
  const pre2 = record('OPTIONS preflight (Authorization header)', { status: 200 }, await request('OPTIONS', `${base}/x`,
    { headers: { origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization,x-amz-date,x-amz-content-sha256' } }));
  assert('  preflight allows authorization', /authorization/.test(pre2.headers['access-control-allow-headers'] ?? ''), `ACAH: ${pre2.headers['access-control-allow-headers']}`);
  const put = record('PutObject with Origin', { status: 200 }, await s3('PUT', '/cors.txt', { headers: { origin }, body: 'hello' }));
  assert('  PUT response: Allow-Origin + Expose-Headers has etag', put.headers['access-control-allow-origin'] === origin &&
    /(^|,\s*)etag(,|$)/i.test(put.headers['access-control-expose-headers'] ?? ''),
    `ACAO: ${put.headers['access-control-allow-origin']}; ACEH: ${put.headers['access-control-expose-headers']}`);
  const err = await s3('GET', '/missing', { headers: { origin } });
  rows.push({ ok: 'info', step: 'error response with Origin (GET missing key)', expected: '', got: `${err.status} ${xml(err.body, 'Code')}`,
    note: `ACAO: ${err.headers['access-control-allow-origin'] ?? '(none)'}` });
} catch (e) {
  failures++;
  console.error(e);
} finally {
  await swift.stop();
}

console.log(`\nSwift start-up: ${startupMs} ms\n`);
console.table(rows);
console.log(failures ? `\n${failures} FAILURE(S)` : '\nall checks passed');
process.exit(failures ? 1 : 0);
