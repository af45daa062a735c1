// Helpers shared by the realtime black-box tests: waiting for a condition
// collecting the messages of an SDK subscription, and signed-in users.

import PocketBase from 'pocketbase';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits until check() is truthy (a readiness deadline, not a timing test). */
export async function until(check, what, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Subscribes pb to topic, collecting {action, record} messages. */
export async function collect(pb, collection, topic, options) {
  const got = [];
  const unsub = await pb.collection(collection).subscribe(topic, (e) => got.push(e), options);
  return { got, unsub };
}

/**
 * Creates a `users` record through su (a superuser client) and signs it
 * in with a new client of url: resolves { record, pb }.
 */
export async function signedInUser(su, url, { email, password }, extra = {}) {
  const record = await su.collection('users').create({ email, password, passwordConfirm: password, ...extra });
  const pb = new PocketBase(url);
  pb.autoCancellation(false);
  await pb.collection('users').authWithPassword(email, password);
  return { record, pb };
}
