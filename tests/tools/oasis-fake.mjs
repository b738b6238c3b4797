// A local stand-in for the OASIS avatar/wallet API (an external SaaS we cannot
// reach from tests). Loopback only. Mimics OASIS's {result, isError, message}
// envelopes, counts calls, and can inject slowness, 500s, "email already in
// use" and an expired admin token.
import http from "node:http";
import { randomUUID } from "node:crypto";

export async function startOasis({ adminUser = "admin", adminPassword = "admin-password" } = {}) {
  const state = {
    calls: {}, mode: "ok", delayMs: 0, tokens: new Set(),
    avatars: new Map(),  // email -> {id, email}
    wallets: new Map(),  // avatarId -> [wallet]
  };
  const count = (name) => (state.calls[name] = (state.calls[name] ?? 0) + 1);
  const send = (res, status, body) => { res.writeHead(status, { "content-type": "application/json" }); res.end(JSON.stringify(body)); };
  const ok = (res, result, message = "OK") => send(res, 200, { result, isError: false, message });
  const fail = (res, status, message) => send(res, status, { result: null, isError: true, message });

  const server = http.createServer(async (req, res) => {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const body = raw ? JSON.parse(raw) : {};
    const url = new URL(req.url, "http://x");
    if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
    if (state.mode === "down") return fail(res, 500, "Internal server error");
    if (req.method === "POST" && url.pathname === "/api/avatar/authenticate") {
      count("authenticate");
      if (body.username !== adminUser || body.password !== adminPassword) return fail(res, 401, "Invalid credentials");
      const token = `tok-${randomUUID()}`;
      state.tokens.add(token);
      return ok(res, { id: "admin", username: adminUser, jwtToken: token }, "Authentication successful");
    }
    const auth = (req.headers.authorization ?? "").replace(/^Bearer /, "");
    if (!state.tokens.has(auth)) return fail(res, 401, "Unauthorized");
    if (req.method === "POST" && url.pathname === "/api/avatar/register") {
      count("register");
      if (state.mode === "email_in_use" || state.avatars.has(body.email)) {
        if (!state.avatars.has(body.email)) state.avatars.set(body.email, { id: randomUUID(), email: body.email });
        return fail(res, 400, "This email is already in use by another avatar.");
      }
      if (!body.password || body.password !== body.confirmPassword || body.password.length < 8) return fail(res, 400, "Invalid password");
      const avatar = { id: randomUUID(), email: body.email, username: body.username };
      state.avatars.set(body.email, avatar);
      return ok(res, avatar, "Avatar registered successfully.");
    }
    let m;
    if (req.method === "GET" && (m = url.pathname.match(/^\/api\/avatar\/get-by-email\/(.+)$/))) {
      count("get-by-email");
      const avatar = state.avatars.get(decodeURIComponent(m[1]));
      return avatar ? ok(res, avatar) : fail(res, 404, "Avatar not found");
    }
    if (req.method === "POST" && (m = url.pathname.match(/^\/api\/wallet\/avatar\/([^/]+)\/generate$/))) {
      count("generate");
      const wallet = { walletId: randomUUID(), avatarId: m[1], providerType: body.providerType, isDefault: !!body.setAsDefault,
                       walletAddress: `addr-${randomUUID().slice(0, 8)}` };
      state.wallets.set(m[1], [...(state.wallets.get(m[1]) ?? []), wallet]);
      return ok(res, wallet, "Wallet generated");
    }
    if (req.method === "GET" && (m = url.pathname.match(/^\/api\/wallet\/avatar\/([^/]+)\/wallets$/))) {
      count("wallets");
      return ok(res, state.wallets.get(m[1]) ?? []);
    }
    if (req.method === "GET" && (m = url.pathname.match(/^\/api\/wallet\/([^/]+)\/balance$/))) {
      count("balance");
      if (state.mode === "balance_fails") return fail(res, 502, "Provider error");
      return ok(res, { amount: "1.5", currency: "SOL" });
    }
    return fail(res, 404, "Not found");
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}`, adminUser, adminPassword, state,
    expireTokens: () => state.tokens.clear(),
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}
