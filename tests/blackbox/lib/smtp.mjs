// An SMTP sink for black-box tests: a real SMTP server on 127.0.0.1 that
// parses the mails basalt sends (multipart/alternative, quoted-printable)
// and lets a test wait for one.
import { SMTPServer } from 'smtp-server';
import { freePort } from './server.mjs';


function decodeQP(s) {
  return s
    .replace(/=\r?\n/g, '')
    .replace(/(?:=[0-9A-F]{2})+/g, (m) =>
      Buffer.from(m.split('=').slice(1).map((h) => parseInt(h, 16))).toString('utf8'),
    );
}

function decodeHeader(v) {
  return v.replace(/=\?utf-8\?b\?([^?]*)\?=/gi, (_, b) => Buffer.from(b, 'base64').toString('utf8'));
}

/** Parses the messages basalt writes (multipart/alternative, quoted-printable). */
function parseMail(raw) {
  const sep = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, sep).replace(/\r\n[ \t]+/g, ' ');
  const headers = {};
  for (const line of head.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = decodeHeader(line.slice(i + 1).trim());
  }
  const body = raw.slice(sep + 4);
  const parts = {};
  const m = /boundary="([^"]+)"/.exec(headers['content-type'] || '');
  if (m) {
    for (const part of body.split('--' + m[1])) {
      const ps = part.indexOf('\r\n\r\n');
      if (ps < 0) continue;
      const ph = part.slice(0, ps).toLowerCase();
      const content = decodeQP(part.slice(ps + 4));
      if (ph.includes('text/html')) parts.html = content;
      else if (ph.includes('text/plain')) parts.text = content;
    }
  }
  return { headers, subject: headers.subject, to: headers.to, html: parts.html || '', text: parts.text || '' };
}

/** An SMTP server on a free port that keeps every mail it receives. */
export async function startSink() {
  const mails = [];
  const waiters = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, cb) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', () => {
        const mail = parseMail(Buffer.concat(chunks).toString('utf8'));
        mail.rcpt = session.envelope.rcptTo.map((r) => r.address);
        mails.push(mail);
        for (const w of [...waiters]) w();
        cb();
      });
    },
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    mails,
    /** Resolves with the first mail (after `from`) matching pred. */
    wait(pred, from = 0, ms = 10000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = mails.slice(from).find(pred);
          if (found) {
            waiters.splice(waiters.indexOf(check), 1);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(check), 1);
          reject(new Error(`no matching mail within ${ms} ms; got ${JSON.stringify(mails.map((x) => [x.rcpt, x.subject]))}`));
        }, ms);
        waiters.push(check);
        check();
      });
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

