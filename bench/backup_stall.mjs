// backup_stall.mjs - record creates at a steady rate before and during a
// backup, for one server.
//
//   node bench/backup_stall.mjs URL TOKEN COLLECTION RATE BEFORE_S
//
// Open loop: a create is sent every 1000/RATE ms whether or not earlier
// ones have answered, and each latency counts from the moment the create
// was due (so a server that stalls is charged for the whole wait, not
// only for the requests it let through). After BEFORE_S seconds it
// starts POST /api/backups and keeps the creates going until the backup
// answers. Prints one JSON line: for "before" and "during", creates sent,
// answered, failed, p50/p99/max in ms and answered creates per second,
// and the backup's own duration.
const [url, token, collection, rateArg, beforeArg] = process.argv.slice(2);
const rate = Number(rateArg || 200);
const beforeS = Number(beforeArg || 10);
const headers = { Authorization: token, 'Content-Type': 'application/json' };
const phases = { before: [], during: [] };
const failed = { before: 0, during: 0 };
let phase = 'before';
let pending = 0;

function create(due, ph) {
  pending++;
  fetch(`${url}/api/collections/${collection}/records`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ body: 'steady write ' + due }),
  })
    .then(async (r) => {
      await r.arrayBuffer();
      if (r.status === 200) phases[ph].push(performance.now() - due);
      else failed[ph]++;
    })
    .catch(() => failed[ph]++)
    .finally(() => pending--);
}

function stats(list, seconds) {
  const s = [...list].sort((a, b) => a - b);
  const q = (p) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : 0);
  return {
    answered: s.length,
    p50: +q(0.5).toFixed(2),
    p99: +q(0.99).toFixed(2),
    max: +(s.at(-1) || 0).toFixed(2),
    perSecond: +(s.length / seconds).toFixed(1),
  };
}

const interval = 1000 / rate;
const start = performance.now();
let next = start;
let backupDone = false;
let backupStart = 0;
let backupEnd = 0;
let backupStatus = 0;
const sent = { before: 0, during: 0 };

while (!backupDone || pending > 0) {
  const now = performance.now();
  if (phase === 'before' && now - start >= beforeS * 1000) {
    phase = 'during';
    backupStart = performance.now();
    fetch(`${url}/api/backups`, { method: 'POST', headers, body: JSON.stringify({ name: `bench_${Date.now()}.zip` }) })
      .then(async (r) => {
        backupStatus = r.status;
        await r.arrayBuffer();
      })
      .catch(() => (backupStatus = -1))
      .finally(() => {
        backupEnd = performance.now();
        backupDone = true;
      });
  }
  if (!backupDone) {
    while (next <= now) {
      create(next, phase);
      sent[phase]++;
      next += interval;
    }
  }
  await new Promise((r) => setTimeout(r, Math.max(0, Math.min(interval, next - performance.now()))));
}
const duringS = (backupEnd - backupStart) / 1000;
console.log(
  JSON.stringify({
    rate,
    backupSeconds: +duringS.toFixed(2),
    backupStatus,
    before: { sent: sent.before, failed: failed.before, ...stats(phases.before, beforeS) },
    during: { sent: sent.during, failed: failed.during, ...stats(phases.during, duringS) },
  }),
);
