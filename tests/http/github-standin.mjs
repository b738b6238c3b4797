// A small local stand-in for GitHub's OAuth app endpoints, as documented
// (docs.github.com: "Authorizing OAuth apps", REST "Users" and "Emails"):
//   GET  /login/oauth/authorize      -> 302 redirect_uri?code&state (or ?error=access_denied...)
//   POST /login/oauth/access_token   -> 200 {access_token, token_type, scope}, or 200 {error, error_description,
//                                       error_uri} (bad_verification_code, incorrect_client_credentials,
//                                       redirect_uri_mismatch), JSON when Accept: application/json
//   GET  /api/v3/user                -> the user, or 401 {"message":"Bad credentials"}
//   GET  /api/v3/user/emails         -> [{email, primary, verified, visibility}]
// PKCE (S256) is checked when the authorize request carried a code_challenge.
// `gh.user` is who approves next; `gh.deny` makes the next authorize answer access_denied;
// `gh.fault` = "hang" (the token endpoint never answers) or "huge" (/user answers 2 MiB).
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import { after } from "node:test";
import { freePort } from "./harness.mjs";

export async function startGithub({ clientId, clientSecret, redirectUri }) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const codes = new Map(); // code -> { login, challenge, redirectUri }
  const tokens = new Map(); // access token -> login
  const users = new Map(); // login -> { id, name, emails: [{email, primary, verified, visibility}] }
  const gh = { base, users, user: null, deny: false, fault: null, calls: [] };
  const held = new Set();  // responses left hanging, ended when the stand-in closes

  const json = (res, status, body) => res.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
  const readBody = (req) => new Promise((resolve) => {
    let data = "";
    req.on("data", (d) => (data += d));
    req.on("end", () => resolve(data));
  });
  const tokenError = (res, error, description) =>
    json(res, 200, { error, error_description: description, error_uri: "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors" });

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, base);
    gh.calls.push(`${req.method} ${url.pathname}`);
    if (req.method === "GET" && url.pathname === "/login/oauth/authorize") {
      const q = url.searchParams;
      const target = new URL(q.get("redirect_uri") || redirectUri);
      if (q.get("client_id") !== clientId || target.toString() !== redirectUri) {
        res.writeHead(404, { "content-type": "text/plain" }).end("Not Found");
        return;
      }
      if (gh.deny) {
        target.searchParams.set("error", "access_denied");
        target.searchParams.set("error_description", "The user has denied your application access.");
        target.searchParams.set("state", q.get("state") ?? "");
      } else {
        const code = randomBytes(10).toString("hex");
        codes.set(code, { login: gh.user, challenge: q.get("code_challenge"), redirectUri: target.toString() });
        target.searchParams.set("code", code);
        target.searchParams.set("state", q.get("state") ?? "");
      }
      res.writeHead(302, { location: target.toString() }).end();
      return;
    }
    if (req.method === "POST" && url.pathname === "/login/oauth/access_token") {
      if (gh.fault === "hang") {
        held.add(res);
        return;
      }
      const form = new URLSearchParams(await readBody(req));
      let id = form.get("client_id"), secret = form.get("client_secret");
      const auth = req.headers.authorization;
      if (auth?.startsWith("Basic ")) [id, secret] = Buffer.from(auth.slice(6), "base64").toString().split(":").map(decodeURIComponent);
      if (id !== clientId || secret !== clientSecret)
        return tokenError(res, "incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.");
      if (form.get("grant_type") === "refresh_token") {
        const login = tokens.get(`refresh:${form.get("refresh_token")}`);
        if (!login) return tokenError(res, "bad_refresh_token", "The refresh token passed is incorrect or expired.");
        const access = `gho_${randomBytes(12).toString("hex")}`;
        tokens.set(access, login);
        return json(res, 200, { access_token: access, token_type: "bearer", scope: "read:user,user:email", expires_in: 28800 });
      }
      const grant = codes.get(form.get("code"));
      codes.delete(form.get("code"));
      if (!grant) return tokenError(res, "bad_verification_code", "The code passed is incorrect or expired.");
      if (form.get("redirect_uri") && form.get("redirect_uri") !== grant.redirectUri)
        return tokenError(res, "redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.");
      if (grant.challenge) {
        const verifier = form.get("code_verifier") ?? "";
        const digest = createHash("sha256").update(verifier).digest("base64url");
        if (digest !== grant.challenge) return tokenError(res, "bad_verification_code", "The code_verifier does not match.");
      }
      const access = `gho_${randomBytes(12).toString("hex")}`;
      const refresh = `ghr_${randomBytes(12).toString("hex")}`;
      tokens.set(access, grant.login);
      tokens.set(`refresh:${refresh}`, grant.login);
      const accept = req.headers.accept ?? "";
      const body = { access_token: access, token_type: "bearer", scope: "read:user,user:email", refresh_token: refresh, expires_in: 28800 };
      if (!accept.includes("json")) {
        res.writeHead(200, { "content-type": "application/x-www-form-urlencoded" }).end(new URLSearchParams(body).toString());
        return;
      }
      return json(res, 200, body);
    }
    if (req.method === "GET" && (url.pathname === "/api/v3/user" || url.pathname === "/api/v3/user/emails")) {
      const auth = req.headers.authorization ?? "";
      const login = tokens.get(auth.replace(/^(Bearer|token) /, ""));
      if (!login || !users.has(login))
        return json(res, 401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" });
      const u = users.get(login);
      if (gh.fault === "huge") return json(res, 200, { login, id: u.id, padding: "x".repeat(2 << 20) });
      if (url.pathname === "/api/v3/user") {
        const primary = u.emails.find((e) => e.primary && e.visibility === "public");
        return json(res, 200, { login, id: u.id, name: u.name ?? null, email: primary?.email ?? null,
          avatar_url: `https://avatars.example.com/u/${u.id}`, type: "User" });
      }
      return json(res, 200, u.emails);
    }
    json(res, 404, { message: "Not Found", documentation_url: "https://docs.github.com/rest" });
  });
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  after(() => {
    for (const res of held) res.destroy();
    server.closeAllConnections?.();
    return new Promise((r) => server.close(r));
  });
  // A GitHub user: numeric id, and emails with which one is primary and whether it is verified.
  gh.addUser = (login, { id, name, email, verified = true }) => {
    users.set(login, { id, name, emails: [{ email, primary: true, verified, visibility: "public" }] });
  };
  return gh;
}
