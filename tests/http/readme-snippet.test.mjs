// README.md's JS snippet, extracted at test time and run verbatim in Node 20 against
// a real pgauth-http. The only substitution is the base URL (the test server's port).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { sql, startServer } from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));

export function readmeSnippet() {
  const readme = readFileSync(join(here, "../../README.md"), "utf8");
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  const snippet = blocks.find((b) => b.includes("createAuthClient"));
  assert.ok(snippet, "README.md has a ```js block with createAuthClient");
  return snippet;
}

test("the README snippet signs up and getSession() returns the user, in Node", async () => {
  const snippet = readmeSnippet();
  assert.ok(snippet.includes('baseURL: "http://127.0.0.1:8080"'));
  const email = snippet.match(/email: "([^"]+)"/)[1];
  const origin = snippet.match(/origin: "([^"]+)"/)?.[1] ?? "http://localhost:3000";
  await sql("DELETE FROM auth.users WHERE email = $1", [email]);
  const server = await startServer({ PGAUTH_TRUSTED_ORIGINS: origin });
  const file = join(here, `.readme-snippet-${process.pid}.mjs`);
  writeFileSync(file, snippet.replace("http://127.0.0.1:8080", server.base));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [file], { timeout: 20000 });
    assert.equal(stdout.trim(), email, server.logs.stdout);
  } finally {
    rmSync(file, { force: true });
  }
  const [row] = await sql("SELECT count(*)::int AS n FROM auth.users WHERE email = $1", [email]);
  assert.equal(row.n, 1);
});
