// GET /api/openapi.json: who may read it, an OpenAPI 3.1 validator from
// npm accepts it, it follows schema changes, and typed clients made from
// a running server type-check: openapi-typescript (+ openapi-fetch) from
// the document, and pocketbase-typegen (which signs in as a superuser and
// reads the collections) unchanged. The TypeScript side lives in
// tests/openapi/ with its own lockfile (installed by run.sh).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startServer, REPO_ROOT } from './lib/server.mjs';
import { superuserClient } from './lib/assert.mjs';

const TS_DIR = path.join(REPO_ROOT, 'tests/openapi');
const BIN = path.join(TS_DIR, 'node_modules/.bin');
const EMAIL = 'oapi@example.com';
const PASSWORD = 'a-long-password-1';

function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 120000, maxBuffer: 16 << 20, ...opts }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function fetchDoc(srv, token) {
  const res = await fetch(`${srv.url}/api/openapi.json`, token ? { headers: { Authorization: token } } : {});
  return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
}

async function validate(doc) {
  const v = new Validator();
  const r = await v.validate(doc);
  assert.equal(v.version, '3.1', 'validated as OpenAPI 3.1');
  assert.ok(r.valid, JSON.stringify(r.errors, null, 1)?.slice(0, 3000));
}

async function makeSchema(pb) {
  const users = await pb.collections.getOne('users');
  await pb.collections.update('users', { otp: { enabled: true } });
  await pb.collections.create({
    name: 'posts',
    type: 'base',
    listRule: '',
    viewRule: '',
    fields: [
      { name: 'title', type: 'text', required: true },
      { name: 'views', type: 'number', onlyInt: true },
      { name: 'published', type: 'bool' },
      { name: 'status', type: 'select', values: ['draft', 'live'], maxSelect: 1 },
      { name: 'tags', type: 'select', values: ['a', 'b', 'c'], maxSelect: 3 },
      { name: 'author', type: 'relation', collectionId: users.id, maxSelect: 1 },
      { name: 'cover', type: 'file', maxSelect: 1 },
      { name: 'gallery', type: 'file', maxSelect: 5 },
      { name: 'meta', type: 'json' },
      { name: 'site', type: 'url' },
      { name: 'contact', type: 'email' },
      { name: 'body', type: 'editor' },
      { name: 'when', type: 'date' },
      { name: 'place', type: 'geoPoint' },
      { name: 'secret', type: 'text', hidden: true },
      { name: 'created', type: 'autodate', onCreate: true },
      { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
    ],
  });
  await pb.collections.create({
    name: 'post_titles',
    type: 'view',
    listRule: '',
    viewQuery: 'SELECT id, title, views FROM posts',
  });
}

describe('openapi.json', () => {
  let srv, pb, doc, work;
  before(async () => {
    srv = await startServer();
    pb = await superuserClient(srv, { email: EMAIL, password: PASSWORD });
    await makeSchema(pb);
    const r = await fetchDoc(srv, pb.authStore.token);
    assert.equal(r.status, 200);
    doc = r.body;
    work = fs.mkdtempSync(path.join(TS_DIR, '.build-'));
  });
  after(async () => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
    await srv?.destroy();
  });

  test('guests and other auth records are refused; superusers read it', async () => {
    const guest = await fetchDoc(srv);
    assert.equal(guest.status, 401);
    assert.deepEqual(Object.keys(guest.body).sort(), ['data', 'message', 'status']);
    await pb.collection('users').create({ email: 'u@example.com', password: PASSWORD, passwordConfirm: PASSWORD });
    const user = await fetch(`${srv.url}/api/collections/users/auth-with-password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identity: 'u@example.com', password: PASSWORD }),
    }).then((r) => r.json());
    assert.equal((await fetchDoc(srv, user.token)).status, 403);
  });

  test('an OpenAPI 3.1 validator accepts it', async () => {
    assert.equal(doc.openapi, '3.1.0');
    await validate(doc);
  });

  test('records, auth endpoints, files, realtime, batch and system APIs are described', () => {
    const p = doc.paths;
    assert.deepEqual(Object.keys(p['/api/collections/posts/records']).sort(), ['get', 'post']);
    assert.deepEqual(Object.keys(p['/api/collections/posts/records/{id}']).sort(), ['delete', 'get', 'patch']);
    // A view collection is read-only.
    assert.deepEqual(Object.keys(p['/api/collections/post_titles/records']), ['get']);
    assert.deepEqual(Object.keys(p['/api/collections/post_titles/records/{id}']), ['get']);
    const list = p['/api/collections/posts/records'].get;
    const names = list.parameters.map((x) => x.$ref.split('/').pop());
    assert.deepEqual(names, ['page', 'perPage', 'sort', 'filter', 'expand', 'fields', 'skipTotal']);
    const create = p['/api/collections/posts/records'].post.requestBody.content;
    assert.deepEqual(Object.keys(create).sort(), ['application/json', 'multipart/form-data']);
    // users has OTP on (set above) and OAuth2 off; _superusers has no verification.
    assert.ok(p['/api/collections/users/auth-with-otp']);
    assert.ok(p['/api/collections/users/auth-with-password']);
    assert.equal(p['/api/collections/users/auth-with-oauth2'], undefined);
    assert.ok(p['/api/collections/users/request-verification']);
    assert.equal(p['/api/collections/_superusers/request-verification'], undefined);
    assert.ok(p['/api/collections/users/impersonate/{id}'].post.security[0].bearerAuth);
    for (const sys of ['/api/files/{collection}/{recordId}/{filename}', '/api/files/token', '/api/realtime', '/api/batch',
      '/api/health', '/api/settings', '/api/collections', '/api/logs', '/api/backups', '/api/crons', '/api/sql', '/api/metrics'])
      assert.ok(p[sys], sys);
    assert.ok(p['/api/realtime'].get.responses['200'].content['text/event-stream']);
    // Superuser-only system APIs need the bearer token; health does not.
    assert.deepEqual(p['/api/settings'].get.security, [{ bearerAuth: [] }]);
    assert.deepEqual(p['/api/health'].get.security, []);
    assert.equal(doc.components.securitySchemes.bearerAuth.scheme, 'bearer');
    assert.deepEqual(doc.components.schemas.Error.required, ['status', 'message', 'data']);
  });

  test('field types map to JSON Schema; hidden fields stay out of records', () => {
    const s = doc.components.schemas;
    const post = s.posts.properties;
    assert.equal(post.title.type, 'string');
    assert.equal(post.views.type, 'integer');
    assert.equal(post.published.type, 'boolean');
    assert.deepEqual(post.status.enum, ['draft', 'live', '']);
    assert.deepEqual(post.tags, { type: 'array', items: { type: 'string', enum: ['a', 'b', 'c'] } });
    assert.equal(post.gallery.type, 'array');
    assert.deepEqual(post.place.required, ['lon', 'lat']);
    assert.equal(post.meta.type, undefined);
    assert.equal(post.secret, undefined);
    assert.equal(post.collectionName.const, 'posts');
    assert.deepEqual(post.expand.properties.author, { $ref: '#/components/schemas/users' });
    assert.deepEqual(s['posts.create'].required, ['title']);
    assert.equal(s['posts.create'].properties.created, undefined);
    assert.equal(s['posts.createForm'].properties.cover.format, 'binary');
    assert.equal(s['posts.createForm'].properties.gallery.items.format, 'binary');
    assert.ok(s['posts.update'].properties['views+']);
    assert.ok(s['posts.update'].properties['gallery-']);
    // Auth collections: password in, never out; passwordConfirm and oldPassword.
    assert.equal(s.users.properties.password, undefined);
    assert.equal(s.users.properties.tokenKey, undefined);
    assert.ok(s['users.create'].required.includes('passwordConfirm'));
    assert.ok(s['users.create'].properties.password);
    assert.ok(s['users.update'].properties.oldPassword);
    assert.deepEqual(s['users.auth'].required, ['token', 'record']);
  });

  test('it follows the schema: a new collection appears, a deleted one goes', async () => {
    await pb.collections.create({ name: 'notes', type: 'base', fields: [{ name: 'text', type: 'text', searchable: true }] });
    const added = (await fetchDoc(srv, pb.authStore.token)).body;
    assert.ok(added.paths['/api/collections/notes/records']);
    // A collection with searchable fields lists the search parameter.
    const params = added.paths['/api/collections/notes/records'].get.parameters.map((x) => x.$ref.split('/').pop());
    assert.deepEqual(params, ['page', 'perPage', 'sort', 'filter', 'expand', 'fields', 'skipTotal', 'search']);
    assert.equal(added.components.schemas.notes.properties.text.type, 'string');
    await validate(added);
    await pb.collections.delete('notes');
    const removed = (await fetchDoc(srv, pb.authStore.token)).body;
    assert.equal(removed.paths['/api/collections/notes/records'], undefined);
    assert.deepEqual(removed, doc);
  });

  test('a client generated by openapi-typescript type-checks against an app, and catches mistakes', async () => {
    fs.writeFileSync(path.join(work, 'openapi.json'), JSON.stringify(doc));
    let r = await run(path.join(BIN, 'openapi-typescript'), [path.join(work, 'openapi.json'), '-o', path.join(work, 'api.ts')]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    for (const f of ['app.ts', 'app_wrong.ts']) fs.copyFileSync(path.join(TS_DIR, f), path.join(work, f));
    const tsc = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck'];
    r = await run(path.join(BIN, 'tsc'), [...tsc, path.join(work, 'app.ts')], { cwd: work });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    r = await run(path.join(BIN, 'tsc'), [...tsc, path.join(work, 'app_wrong.ts')], { cwd: work });
    assert.notEqual(r.code, 0);
    const lines = fs.readFileSync(path.join(work, 'app_wrong.ts'), 'utf8').split('\n');
    for (const tag of ['WRONG-1', 'WRONG-2', 'WRONG-3']) {
      const line = lines.findIndex((l) => l.includes(tag)) + 1;
      assert.match(r.stdout, new RegExp(`app_wrong\\.ts\\(${line},`), `${tag} (line ${line}) reported:\n${r.stdout}`);
    }
  });

  test('pocketbase-typegen works against the server unchanged, and its types type-check', async () => {
    const out = path.join(work, 'pb-types.ts');
    const r = await run(path.join(BIN, 'pocketbase-typegen'), ['--url', srv.url, '--email', EMAIL, '--password', PASSWORD, '--out', out], { cwd: work });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const types = fs.readFileSync(out, 'utf8');
    assert.match(types, /Posts: "posts"/);
    assert.match(types, /views\?: number/);
    fs.copyFileSync(path.join(TS_DIR, 'typegen_app.ts'), path.join(work, 'typegen_app.ts'));
    const t = await run(path.join(BIN, 'tsc'), ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext',
      '--moduleResolution', 'nodenext', '--skipLibCheck', path.join(work, 'typegen_app.ts')], { cwd: work });
    assert.equal(t.code, 0, t.stdout + t.stderr);
  });
});

describe('openapi.json with BASALT_OPENAPI_PUBLIC=1', () => {
  let srv;
  before(async () => {
    srv = await startServer({ env: { BASALT_OPENAPI_PUBLIC: '1' } });
  });
  after(() => srv?.destroy());

  test('a guest reads it', async () => {
    const r = await fetchDoc(srv);
    assert.equal(r.status, 200);
    assert.match(r.type, /^application\/json/);
    assert.ok(r.body.paths['/api/collections/users/records']);
  });
});
