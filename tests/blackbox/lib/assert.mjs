// Assertions and set-up steps shared by the black-box test files.
import assert from 'node:assert/strict';
import { ClientResponseError } from 'pocketbase';
import { client, runCli } from './server.mjs';

/**
 * Awaits an SDK call that must fail with `status`; `check(body)` looks
 * further into PocketBase's JSON error body.
 */
export async function rejectsWith(promise, status, check) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof ClientResponseError, String(err));
    assert.equal(err.status, status, JSON.stringify(err.response));
    check?.(err.response);
    return true;
  });
}

/** Creates a superuser in a running server's data dir and signs it in. */
export async function superuserClient(srv, { email, password }) {
  const r = await runCli(['superuser', 'upsert', email, password, '--dir', srv.dir]);
  assert.equal(r.code, 0, r.stderr);
  const pb = client(srv.url);
  await pb.collection('_superusers').authWithPassword(email, password);
  return pb;
}
