// Social sign-in test rig: a real OpenID provider (panva's certified oidc-provider)
// run in-process with a test client whose login and consent the "browser" completes,
// the GitHub stand-in (github-standin.mjs), and a browser that follows redirects
// with one cookie jar per origin. Everything listens on 127.0.0.1 and closes when
// the test file ends.
import http from "node:http";
import { after } from "node:test";
import * as jose from "jose";
import Provider from "oidc-provider";
import { freePort, startServer } from "./harness.mjs";
import { startGithub } from "./github-standin.mjs";

export const CLIENT_ID = "pgauth-test-client";
export const CLIENT_SECRET = "pgauth-test-client-secret-0123456789";

// An OpenID provider at http://127.0.0.1:<port>. `users` maps an account id to
// its claims; `idp.setUser(id)` chooses who signs in next (the interaction completes itself).
// Its signing key is ours, so tests can also mint (and forge) id_tokens.
export async function startOidc({ users = {}, redirectUris = [] } = {}) {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = await jose.generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await jose.exportJWK(privateKey)), kid: `k-${port}`, alg: "RS256", use: "sig" };
  const state = { user: null, deny: null, uris: redirectUris };
  const oidc = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: redirectUris.length ? redirectUris : ["http://127.0.0.1/none"],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    jwks: { keys: [jwk] },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name", "picture"] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: async (ctx, id) =>
      users[id] ? { accountId: id, claims: async () => ({ sub: id, ...users[id] }) } : undefined,
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed("refresh_token"),
    pkce: { required: () => true },
    ttl: { AccessToken: 3600, IdToken: 3600, RefreshToken: 86400, Grant: 86400, Session: 86400, Interaction: 600 },
    renderError: async (ctx, out) => {
      ctx.type = "json";
      ctx.body = out;
    },
  });
  oidc.proxy = false;
  const callback = oidc.callback();
  const server = http.createServer(async (req, res) => {
    if (req.url.startsWith("/interaction/")) {
      try {
        const details = await oidc.interactionDetails(req, res);
        if (state.deny) {
          await oidc.interactionFinished(req, res, { error: "access_denied", error_description: state.deny });
          return;
        }
        if (details.prompt.name === "login") {
          await oidc.interactionFinished(req, res, { login: { accountId: state.user } });
          return;
        }
        const grant = new oidc.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
        if (details.prompt.details.missingOIDCScope) grant.addOIDCScope(details.prompt.details.missingOIDCScope.join(" "));
        if (details.prompt.details.missingOIDCClaims) grant.addOIDCClaims(details.prompt.details.missingOIDCClaims);
        await oidc.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
      } catch (e) {
        res.writeHead(500, { "content-type": "text/plain" }).end(String(e));
      }
      return;
    }
    callback(req, res);
  });
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  after(() => new Promise((r) => server.close(r)));
  const idp = {
    issuer,
    port,
    oidc,
    jwk,
    privateKey,
    setUser(id) {
      state.user = id;
      state.deny = null;
    },
    deny(description) {
      state.deny = description;
    },
    // An id_token signed with this provider's key (or `key`, for a forgery).
    async mint(claims, { key = privateKey, kid = jwk.kid, aud = CLIENT_ID, iss = issuer, expiresIn = "5m" } = {}) {
      return new jose.SignJWT({ ...claims })
        .setProtectedHeader({ alg: "RS256", kid })
        .setIssuer(iss)
        .setAudience(aud)
        .setIssuedAt()
        .setExpirationTime(expiresIn)
        .sign(key);
    },
  };
  return idp;
}

// pgauth-http with an OIDC provider "acme", Google (another oidc-provider at its own
// issuer) and GitHub (the stand-in). Ports are chosen first so that each IdP knows
// pgauth's redirect URIs.
export async function startSocial({ users = {}, env = {} } = {}) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const cb = (id) => `${base}/api/auth/callback/${id}`;
  const acme = await startOidc({ users, redirectUris: [cb("acme")] });
  const google = await startOidc({ users, redirectUris: [cb("google")] });
  const github = await startGithub({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: cb("github") });
  const server = await startServer({
    PGAUTH_TRUSTED_ORIGINS: "http://app.example.com",
    PGAUTH_OIDC_PROVIDERS: "acme",
    PGAUTH_OIDC_ACME_DISCOVERY_URL: `${acme.issuer}/.well-known/openid-configuration`,
    PGAUTH_OIDC_ACME_CLIENT_ID: CLIENT_ID,
    PGAUTH_OIDC_ACME_CLIENT_SECRET: CLIENT_SECRET,
    PGAUTH_GOOGLE_CLIENT_ID: CLIENT_ID,
    PGAUTH_GOOGLE_CLIENT_SECRET: CLIENT_SECRET,
    PGAUTH_GOOGLE_ISSUER: google.issuer,
    PGAUTH_GITHUB_CLIENT_ID: CLIENT_ID,
    PGAUTH_GITHUB_CLIENT_SECRET: CLIENT_SECRET,
    PGAUTH_GITHUB_URL: github.base,
    PGAUTH_GITHUB_API_URL: `${github.base}/api/v3`,
    ...env,
  }, { port });
  return { server, acme, google, github };
}

// A browser: one cookie jar per origin, redirects followed by hand (so each hop's
// cookies are kept) until `stop(url)` says the page is ours to inspect.
export function browser() {
  const jars = new Map();
  const jar = (origin) => jars.get(origin) ?? jars.set(origin, new Map()).get(origin);
  async function request(url, init = {}) {
    const u = new URL(url);
    const j = jar(u.origin);
    const headers = new Headers(init.headers);
    if (j.size) headers.set("cookie", [...j].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await fetch(url, { ...init, headers, redirect: "manual" });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim(), value = pair.slice(eq + 1);
      if (value === "" || /max-age=0/i.test(line) || /expires=Thu, 01 Jan 1970/i.test(line)) j.delete(name);
      else j.set(name, value);
    }
    return res;
  }
  // Follows redirects from `url`; stops (without requesting it) at the first URL for which
  // stop(url) is true, and returns { url, hops }. Gives up after 20 hops.
  async function follow(url, stop) {
    const hops = [];
    for (let i = 0; i < 20; i++) {
      if (stop(url)) return { url, hops };
      const res = await request(url);
      hops.push({ url, status: res.status });
      const location = res.headers.get("location");
      if (res.status < 300 || res.status >= 400 || !location) {
        const text = await res.text();
        return { url, hops, res, text };
      }
      url = new URL(location, url).toString();
    }
    throw new Error("too many redirects");
  }
  return { jars, jar, request, follow };
}

// The better-auth client's fetch, bound to a browser's jar for pgauth's origin.
export function clientFetch(b, origin) {
  return async (input, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set("origin", origin);
    return b.request(typeof input === "string" ? input : input.url ?? String(input), { ...init, headers });
  };
}
