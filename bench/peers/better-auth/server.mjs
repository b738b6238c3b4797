// The real Better-Auth 1.7, configured like pgauth for a fair comparison:
// emailAndPassword on, jwt plugin on, apiKey plugin with sessions for API keys
// (x-api-key) and no per-key rate limit, rate limiting off, cookie cache off
// unless COOKIE_CACHE=on, pg Pool on the same PostgreSQL cluster (own database).
// ORGANIZATION=on adds the organization plugin (teams on; dynamic access control off, its
// fastest has-permission: roles checked in memory), for the organization cases; --migrate
// always creates its tables too. OAUTH_PROVIDER=on adds the oauthProvider plugin
// (@better-auth/oauth-provider, defaults: hashed client secrets and tokens, opaque access
// tokens without a resource, id tokens signed by the jwt plugin's EdDSA key), for the OAuth
// provider cases; --migrate creates its tables too.
//   DATABASE_URL=... BETTER_AUTH_SECRET=... PORT=3100 node server.mjs [--migrate]
import http from "node:http";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { jwt, organization } from "better-auth/plugins";
import { apiKey } from "@better-auth/api-key";
import { oauthProvider } from "@better-auth/oauth-provider";
import pg from "pg";

const port = Number(process.env.PORT || 3100);
const baseURL = `http://127.0.0.1:${port}`;
const options = {
  database: new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE || 10) }),
  baseURL,
  secret: process.env.BETTER_AUTH_SECRET,
  emailAndPassword: { enabled: true },
  plugins: [
    jwt(),
    apiKey({ enableSessionForAPIKeys: true, rateLimit: { enabled: false } }),
    ...(process.env.ORGANIZATION === "on" || process.argv.includes("--migrate")
      ? [organization({ teams: { enabled: true } })]
      : []),
    ...(process.env.OAUTH_PROVIDER === "on" || process.argv.includes("--migrate")
      ? [oauthProvider({ loginPage: "/sign-in", consentPage: "/consent" })]
      : []),
  ],
  rateLimit: { enabled: false },
  session: {
    expiresIn: 7 * 24 * 3600,
    updateAge: 24 * 3600,
    cookieCache: { enabled: process.env.COOKIE_CACHE === "on", maxAge: 300 },
  },
  trustedOrigins: [baseURL],
  telemetry: { enabled: false },
};
const auth = betterAuth(options);

if (process.argv.includes("--migrate")) {
  const { runMigrations } = await getMigrations(auth.options);
  await runMigrations();
  console.log("better-auth schema migrated");
  process.exit(0);
}

const server = http.createServer(toNodeHandler(auth));
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1", () => console.log(`better-auth listening on ${baseURL}`));
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => server.close(() => process.exit(0)));
