// A node:test reporter that counts the tests (not the suites) of each
// file: passed, failed, skipped. It prints a line per file, the failed
// tests with the first line of their error, and a last line
//
//   blackbox-count: pass=N fail=N skip=N
//
// which run.sh reads for the cluster-mode ratchet.

import path from 'node:path';

function firstLine(err) {
  return String(err?.cause?.message || err?.message || err || '').split('\n')[0].slice(0, 200);
}

export default async function* countReporter(source) {
  const files = new Map(); // file -> { pass, fail, skip, failed: [] }
  const of = (file) => {
    const k = path.basename(file || '?');
    if (!files.has(k)) files.set(k, { pass: 0, fail: 0, skip: 0, failed: [] });
    return files.get(k);
  };
  for await (const ev of source) {
    if (ev.type !== 'test:pass' && ev.type !== 'test:fail') continue;
    const d = ev.data;
    const f = of(d.file);
    if (d.details?.type === 'suite') {
      // A suite that failed in its hooks: its tests are reported failed
      // (cancelled) one by one; the suite's own error is shown, not counted.
      if (ev.type === 'test:fail') f.failed.push(`(suite) ${d.name}: ${firstLine(d.details?.error)}`);
      continue;
    }
    if (d.skip || d.todo) f.skip++;
    else if (ev.type === 'test:pass') f.pass++;
    else {
      f.fail++;
      f.failed.push(`${d.name}: ${firstLine(d.details?.error)}`);
    }
  }
  const total = { pass: 0, fail: 0, skip: 0 };
  for (const [name, f] of [...files].sort()) {
    total.pass += f.pass;
    total.fail += f.fail;
    total.skip += f.skip;
    yield `${name}: pass ${f.pass} fail ${f.fail} skip ${f.skip}\n`;
    for (const t of f.failed) yield `    FAIL ${t}\n`;
  }
  yield `blackbox-count: pass=${total.pass} fail=${total.fail} skip=${total.skip}\n`;
}
