// Pre-mints single-use OAuth credentials for the OAuth provider cases of bench/run.sh, over
// HTTP against either server (pgauth-http or Better-Auth's oauth-provider), the way a
// relying party gets them: the authorization endpoint with the user's session cookie (the
// consent is given once, on the first request, as the consent page would), then the token
// endpoint with client_secret_basic. Writes one value per line to OUT.
//   node bench/oauth_mint.mjs KIND COUNT OUT
//     KIND: code     authorization codes (PKCE S256 of BENCH_VERIFIER)
//           refresh  refresh tokens, each from its own code flow (rotation makes each single use)
//           access   access tokens (one is enough for userinfo and introspection)
// env: BENCH_BASE (server URL), BENCH_COOKIE, BENCH_CLIENT_ID, BENCH_CLIENT_SECRET,
//      BENCH_REDIRECT, BENCH_SCOPE, BENCH_VERIFIER, BENCH_MINT_CONCURRENCY (default 16)
import http from "node:http";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";

const [kind, countArg, out] = process.argv.slice(2);
const count = Number(countArg);
if (!["code", "refresh", "access"].includes(kind) || !(count > 0) || !out) {
  console.error("usage: node bench/oauth_mint.mjs code|refresh|access COUNT OUT");
  process.exit(2);
}
const env = (name) => {
  const v = process.env[name];
  if (!v) { console.error(`${name} is not set`); process.exit(2); }
  return v;
};
const base = env("BENCH_BASE"), cookie = env("BENCH_COOKIE"), clientId = env("BENCH_CLIENT_ID");
const secret = env("BENCH_CLIENT_SECRET"), redirect = env("BENCH_REDIRECT"), scope = env("BENCH_SCOPE");
const verifier = env("BENCH_VERIFIER");
const concurrency = Number(process.env.BENCH_MINT_CONCURRENCY || 16);
const challenge = createHash("sha256").update(verifier).digest("base64url");
const basic = "Basic " + Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64");
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

function call(url, { method = "GET", headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const all = { ...headers };
    if (body !== undefined) all["content-length"] = Buffer.byteLength(body);
    const req = http.request(url, { method, headers: all, agent }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, location: res.headers.location, text, json });
      });
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// Where an answer sends the browser: a 302's Location, or the URL of a fetch-mode JSON answer.
function target(r) {
  const u = r.location ?? r.json?.url ?? r.json?.redirect_uri ?? r.json?.redirectURI;
  if (!u) throw new Error(`no redirect (${r.status}): ${r.text.slice(0, 300)}`);
  return new URL(u, base);
}

async function code() {
  const q = new URLSearchParams({ response_type: "code", client_id: clientId, redirect_uri: redirect, scope,
    state: Math.random().toString(36).slice(2), code_challenge: challenge, code_challenge_method: "S256" });
  let to = target(await call(`${base}/api/auth/oauth2/authorize?${q}`, { headers: { cookie } }));
  if (!to.searchParams.get("code") && to.pathname.endsWith("/consent")) {
    // The consent page's post: pgauth takes its consent_code, Better-Auth the signed query.
    const consentCode = to.searchParams.get("consent_code");
    const body = JSON.stringify(consentCode ? { accept: true, consent_code: consentCode }
                                            : { accept: true, oauth_query: to.search.slice(1) });
    to = target(await call(`${base}/api/auth/oauth2/consent`, { method: "POST", body,
      headers: { cookie, origin: base, "content-type": "application/json" } }));
  }
  const c = to.searchParams.get("code");
  if (!c) throw new Error(`no code in ${to}`);
  return c;
}

async function tokens() {
  const body = new URLSearchParams({ grant_type: "authorization_code", code: await code(), redirect_uri: redirect,
    code_verifier: verifier }).toString();
  const r = await call(`${base}/api/auth/oauth2/token`, { method: "POST", body,
    headers: { authorization: basic, "content-type": "application/x-www-form-urlencoded" } });
  if (r.status !== 200 || !r.json?.access_token) throw new Error(`token grant ${r.status}: ${r.text.slice(0, 300)}`);
  if (kind === "refresh" && !r.json.refresh_token) throw new Error(`no refresh_token: ${r.text.slice(0, 300)}`);
  return kind === "refresh" ? r.json.refresh_token : r.json.access_token;
}

const one = kind === "code" ? code : tokens;
const values = [];
await one().then((v) => values.push(v));  // the first alone: it gives the consent when needed
let next = 1;
await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
  while (next < count) { next++; values.push(await one()); }
}));
writeFileSync(out, values.join("\n") + "\n");
agent.destroy();
