// The database restarts under a running pgauth-http: each broken pooled
// connection fails at most the one request that held it, then the pool reconnects.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { signUp, startServer } from "./harness.mjs";

const canRestart = process.getuid?.() === 0 && !!process.env.PGDATA;

test("database restart: at most one failed request per pooled connection, then recovery",
     { skip: !canRestart && "needs root and PGDATA of the test cluster" }, async () => {
  const server = await startServer({ PGAUTH_THREADS: "2", PGAUTH_POOL_SIZE: "2" });
  const user = await signUp(server);
  const get = () => fetch(`${server.api}/get-session`, { headers: { cookie: user.cookie } });
  // open both pooled connections
  await Promise.all(Array.from({ length: 8 }, get));
  // -l: the new postmaster must not inherit (and hold open) our pipes
  const log = `${process.env.PGAUTH_CLUSTER_DIR ?? "/tmp"}/server.log`;
  const restart = spawnSync("runuser", ["-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "-D", process.env.PGDATA,
                                        "-l", log, "-m", "fast", "-w", "-t", "60", "restart"], { stdio: "ignore", timeout: 90_000 });
  assert.equal(restart.status, 0, "pg_ctl restart failed");
  const statuses = [];
  for (let i = 0; i < 10; i++) statuses.push((await get()).status);
  const failed = statuses.filter((s) => s !== 200);
  assert.ok(failed.every((s) => s === 503), String(statuses));
  assert.ok(failed.length <= 2, `more failures than pooled connections: ${statuses}`);
  assert.deepEqual(statuses.slice(-5), [200, 200, 200, 200, 200]);
  const body = await (await get()).json();
  assert.equal(body.user.id, user.user.id);
});
