"""`make run` writes what a backend needs and `make stop` stops what `make run` started.

Runs scripts/run.sh from a scratch copy of scripts/ and the Makefile (its .run/ is the
copy's own), with PGAUTH_RUN_SKIP_EXTENSION=1 (the extension installed on this machine is
used, never rebuilt or installed) and PGAUTH_HTTP_BIN (the pgauth-http under test).
"""

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

import asyncpg
import httpx
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from pgauth_fastapi import PgAuth, User, read_env_file

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("PGAUTH_HTTP_BIN")


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


class MakeRunTests(unittest.TestCase):
    def setUp(self):
        if not BIN:
            self.skipTest("needs PGAUTH_HTTP_BIN (run through run.sh)")
        tmp = tempfile.TemporaryDirectory(prefix="pgauth-makerun-")
        self.addCleanup(tmp.cleanup)
        self.checkout = Path(tmp.name)
        self.checkout.chmod(0o755)  # initdb and psql run as postgres, from inside it
        shutil.copytree(ROOT / "scripts", self.checkout / "scripts")
        shutil.copy(ROOT / "Makefile", self.checkout / "Makefile")
        self.listen = f"127.0.0.1:{free_port()}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PGAUTH_", "PG"))}
        env.update(PGAUTH_RUN_SKIP_EXTENSION="1", PGAUTH_HTTP_BIN=BIN, PGAUTH_LISTEN=self.listen)
        self.env = env
        self.log = open(self.checkout / "run.log", "w+b")
        self.addCleanup(self.log.close)
        self.run_sh = subprocess.Popen(["bash", "scripts/run.sh"], cwd=self.checkout, env=env,
                                       stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        self.addCleanup(self.cleanup)

    def cleanup(self):
        if self.run_sh.poll() is None:
            self.run_sh.send_signal(signal.SIGTERM)
            try:
                self.run_sh.wait(10)
            except subprocess.TimeoutExpired:
                self.run_sh.kill()
                self.run_sh.wait()
        subprocess.run(["bash", "scripts/cluster.sh", "stop", "dev"], cwd=self.checkout, env=self.env,
                       capture_output=True, timeout=120)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def wait_for_server(self, http: httpx.Client):
        deadline = time.monotonic() + 180
        while True:
            if self.run_sh.poll() is not None:
                self.fail(f"make run exited with {self.run_sh.returncode}:\n{self.output()[-4000:]}")
            try:
                if http.get("/api/auth/ok").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.fail(f"pgauth-http did not answer within 180 s:\n{self.output()[-4000:]}")
            time.sleep(0.2)

    def test_run_then_stop(self):
        base = f"http://{self.listen}"
        with httpx.Client(base_url=base, timeout=10, headers={"origin": base}) as http:
            self.wait_for_server(http)
            out = self.output()
            for n in range(1, 8):  # every step announced
                self.assertIn(f"==> [{n}/7] ", out)
            run_dir = self.checkout / ".run"
            env_file = run_dir / "pgauth.env"
            self.assertIn(str(env_file), out, "make run does not say where the backend settings are")

            # What a backend needs, from the env file alone: the reader DSN and the secret.
            settings = read_env_file(env_file)
            self.assertEqual(settings["PGAUTH_JWKS_URL"], f"{base}/api/auth/jwks")
            self.assertEqual(settings["PGAUTH_ISSUER"], base)
            self.assertEqual(Path(settings["PGAUTH_SECRET_FILE"]).resolve(), (run_dir / "secret").resolve())
            dsn = settings["PGAUTH_READER_DSN"]
            pg_port = int(dsn.rsplit(":", 1)[1].split("/")[0])

            async def whoami():
                conn = await asyncpg.connect(dsn)
                try:
                    return await conn.fetchrow("SELECT current_user AS me, pg_has_role('pgauth_reader', 'MEMBER') AS reader,"
                                               " pg_has_role('pgauth_service', 'MEMBER') AS service")
                finally:
                    await conn.close()

            row = asyncio.run(whoami())
            self.assertEqual((row["me"], row["reader"], row["service"]), ("pgauth_app", True, False))

            r = http.post("/api/auth/sign-up/email",
                          json={"email": "run@example.com", "password": "correct-horse-battery", "name": "Run"})
            self.assertEqual(r.status_code, 200, r.text)
            # the session cookie itself (sign-up also sets the multi-session copy of it)
            cookie = next(c.split(";")[0] for c in r.headers.get_list("set-cookie")
                          if c.startswith("better-auth.session_token="))
            auth = PgAuth.from_env(env_file, environ={})
            app = FastAPI()
            auth.install(app)

            @app.get("/me")
            async def me(user: User = Depends(auth.current_user)):
                return {"email": user.email}

            with TestClient(app) as client:
                r = client.get("/me", headers={"cookie": cookie})  # signed: checked with the secret file's secret
                self.assertEqual((r.status_code, r.json()), (200, {"email": "run@example.com"}), r.text)

        # make stop: the server started by make run and the dev cluster.
        stop = subprocess.run(["make", "-s", "stop"], cwd=self.checkout, env=self.env, capture_output=True, text=True,
                              timeout=120)
        self.assertEqual(stop.returncode, 0, stop.stdout + stop.stderr)
        try:
            self.run_sh.wait(15)
        except subprocess.TimeoutExpired:
            self.fail(f"pgauth-http still runs after make stop:\n{stop.stdout}{stop.stderr}")
        self.assertFalse(accepts(pg_port), f"the dev cluster still accepts connections after make stop:\n{stop.stdout}")
        self.assertFalse((run_dir / "dev.env").exists())
        self.assertFalse(env_file.exists(), "make stop left .run/pgauth.env, whose port is now stale")
        self.assertTrue((run_dir / "secret").exists(), "make stop removed the secret: sessions would not survive")


if __name__ == "__main__":
    unittest.main(verbosity=2)
