// A real SMTP server (npm smtp-server) for the mail tests: it accepts every
// message on 127.0.0.1 and keeps it parsed (headers, text and HTML bodies), so a
// test can follow the link or type the code it carries. It can be stopped and
// started again on the same port (the "sink down, then up" fault).
import { SMTPServer } from "smtp-server";
import { after } from "node:test";
import { freePort, freshSql, sql } from "./harness.mjs";

function decodePart(headers, body) {
  const encoding = (headers["content-transfer-encoding"] ?? "").toLowerCase();
  if (encoding === "base64") return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (encoding === "quoted-printable")
    return Buffer.from(body.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16))), "latin1").toString("utf8");
  return body;
}

function splitHeaders(text) {
  const end = text.indexOf("\r\n\r\n");
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? "" : text.slice(end + 4);
  const headers = {};
  for (const line of head.replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

export function parseMail(raw) {
  const { headers, body } = splitHeaders(raw);
  const mail = { raw, headers, messageId: headers["message-id"], subject: headers.subject, text: "", html: "" };
  const boundary = /boundary="?([^";]+)"?/.exec(headers["content-type"] ?? "")?.[1];
  if (!boundary) {
    mail.text = decodePart(headers, body);
    return mail;
  }
  for (const chunk of body.split(`--${boundary}`).slice(1)) {
    if (chunk.startsWith("--")) break;
    const part = splitHeaders(chunk.replace(/^\r\n/, ""));
    const type = (part.headers["content-type"] ?? "").toLowerCase();
    if (type.startsWith("text/plain")) mail.text = decodePart(part.headers, part.body);
    else if (type.startsWith("text/html")) mail.html = decodePart(part.headers, part.body);
  }
  return mail;
}

export class MailSink {
  constructor() {
    this.messages = [];
    this.waiters = [];
    this.server = null;
    this.port = 0;
    // hold: accept the DATA but never answer it (a mail "in flight"); heldCount counts them.
    this.hold = false;
    this.heldCount = 0;
  }

  async start(port = this.port) {
    this.port = port || (await freePort());
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      size: 1024 * 1024,
      onData: (stream, session, callback) => {
        if (this.hold) {
          this.heldCount++;
          stream.resume();
          for (const w of [...this.waiters]) w();
          return;
        }
        const chunks = [];
        stream.on("data", (c) => chunks.push(c));
        stream.on("end", () => {
          const mail = parseMail(Buffer.concat(chunks).toString("utf8"));
          mail.from = session.envelope.mailFrom?.address;
          mail.to = session.envelope.rcptTo.map((r) => r.address);
          this.messages.push(mail);
          for (const w of [...this.waiters]) w();
          callback();
        });
      },
    });
    await new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.port, "127.0.0.1", resolve);
    });
    return this;
  }

  async stop() {
    if (!this.server) return;
    const s = this.server;
    this.server = null;
    await new Promise((resolve) => s.close(resolve));
  }

  get url() {
    return `smtp://127.0.0.1:${this.port}`;
  }

  to(address) {
    return this.messages.filter((m) => m.to.includes(address.toLowerCase()) || m.to.includes(address));
  }

  // Resolves with the first message to `address` (after `skip` earlier ones) matching `filter`.
  async waitFor(address, { timeout = 10000, skip = 0, filter = () => true } = {}) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const found = this.to(address).filter(filter)[skip];
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no mail to ${address} within ${timeout} ms (have ${this.messages.length} in all)`);
      await new Promise((resolve) => {
        const wake = () => {
          this.waiters = this.waiters.filter((w) => w !== wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(left, 200));
        this.waiters.push(wake);
      });
    }
  }
}

export async function startSink() {
  const sink = await new MailSink().start();
  after(() => sink.stop());
  return sink;
}

// The first absolute link in a mail's text, as a URL.
export function linkIn(mail) {
  const m = /https?:\/\/\S+/.exec(mail.text);
  if (!m) throw new Error(`no link in: ${mail.text}`);
  return new URL(m[0]);
}

// The code standing alone on its line in a mail's text.
export function otpIn(mail) {
  const m = /^(\d{4,10})$/m.exec(mail.text);
  if (!m) throw new Error(`no code in: ${mail.text}`);
  return m[1];
}

// pgauth-http with the worker sending to `sink` (fast polling, a short lease for the fault tests).
export function mailEnv(sink, extra = {}) {
  return {
    PGAUTH_SMTP_URL: sink.url,
    PGAUTH_EMAIL_FROM: "pgauth tests <no-reply@example.com>",
    PGAUTH_OUTBOX_POLL_MS: "200",
    ...extra,
  };
}

// Database settings (GUCs) for the test's connections: ALTER DATABASE ... SET, undone after the file.
// Set them before starting the server: its connections read them when they open.
export async function databaseSettings(settings) {
  const [{ db }] = await sql("SELECT current_database() AS db");
  for (const [name, value] of Object.entries(settings))
    await sql(`ALTER DATABASE "${db}" SET ${name} = '${String(value).replace(/'/g, "''")}'`);
  after(async () => {
    for (const name of Object.keys(settings)) await freshSql(`ALTER DATABASE "${db}" RESET ${name}`);
  });
}

// A GET that does not follow redirects: { status, location, cookies, body }.
export async function getManual(url, headers = {}) {
  const res = await fetch(url, { redirect: "manual", headers });
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = undefined; }
  return { status: res.status, location: res.headers.get("location"), cookies: res.headers.getSetCookie(), headers: res.headers, text, body };
}
