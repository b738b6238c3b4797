"""The example app starts while its database does not exist yet, answers 503 JSON, and serves
sessions once the database is up, without a restart.

The app runs as its own process (uvicorn, Debian's /usr/bin/python3) and reads its settings
from an env file like the one `make run` writes. Its database is a scratch cluster that this
test starts, on the port the app was pointed at, after the app is up.
"""

import base64
import hashlib
import hmac
import os
import secrets
import socket
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "clients/python/example"
PYTHON = "/usr/bin/python3"
COOKIE = "better-auth.session_token"


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class LateDatabaseTests(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="pgauth-late-")
        self.addCleanup(tmp.cleanup)
        self.tmp = Path(tmp.name)
        self.cluster = f"python-late-{os.getpid()}"
        self.pg_port = free_port()
        self.secret = secrets.token_urlsafe(32)
        (self.tmp / "secret").write_text(self.secret + "\n")
        env_file = self.tmp / "pgauth.env"  # the shape of make run's .run/pgauth.env
        env_file.write_text(
            "# written by the test\n"
            f"export PGAUTH_READER_DSN=postgresql://pgauth_app@127.0.0.1:{self.pg_port}/pgauth\n"
            f"export PGAUTH_SECRET_FILE='{self.tmp / 'secret'}'\n"
            f"export PGAUTH_JWKS_URL=http://127.0.0.1:{free_port()}/api/auth/jwks\n")
        self.app_port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PGAUTH_") and k != "PYTHONPATH"}
        env.update(PGAUTH_ENV_FILE=str(env_file), PYTHONDONTWRITEBYTECODE="1")
        self.app_log = open(self.tmp / "app.log", "w+b")
        self.addCleanup(self.app_log.close)
        self.app = subprocess.Popen(
            [PYTHON, "-m", "uvicorn", "--app-dir", str(EXAMPLE), "app:app", "--host", "127.0.0.1",
             "--port", str(self.app_port)],
            cwd=self.tmp, env=env, stdin=subprocess.DEVNULL, stdout=self.app_log, stderr=subprocess.STDOUT)
        self.addCleanup(self.stop_app)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.app_port}", timeout=10)
        self.addCleanup(self.http.close)

    def stop_app(self):
        if self.app.poll() is None:
            self.app.terminate()
            try:
                self.app.wait(10)
            except subprocess.TimeoutExpired:
                self.app.kill()
                self.app.wait()

    def app_output(self) -> str:
        self.app_log.seek(0)
        return self.app_log.read().decode(errors="replace")[-4000:]

    def wait_for_app(self):
        deadline = time.monotonic() + 60
        while True:
            if self.app.poll() is not None:
                self.fail(f"the example app exited with {self.app.returncode} while the database was down:\n"
                          f"{self.app_output()}")
            try:
                self.http.get("/maybe")
                return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.fail(f"the example app did not answer within 60 s:\n{self.app_output()}")
            time.sleep(0.1)

    def start_database(self) -> str:
        """A scratch cluster on the port the app points at, with the reader role; a session token."""
        env = {**os.environ, "PGAUTH_PG_PORT": str(self.pg_port)}
        subprocess.run(["bash", str(ROOT / "scripts/cluster.sh"), "start", self.cluster], env=env, check=True,
                       capture_output=True, timeout=180)
        self.addCleanup(subprocess.run, ["bash", str(ROOT / "scripts/cluster.sh"), "stop", self.cluster],
                        capture_output=True, timeout=120)
        psql = ["psql", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres", "-qAtX", "-v", "ON_ERROR_STOP=1"]
        subprocess.run([*psql, "-d", "postgres", "-c", "CREATE DATABASE pgauth"], check=True, capture_output=True)
        # What `make run` does for the dev cluster: the one reader role the app connects as.
        out = subprocess.run(
            [*psql, "-d", "pgauth"], check=True, capture_output=True, text=True,
            input="SET client_min_messages = warning;\n"
                  "CREATE EXTENSION pgauth;\n"
                  "CREATE ROLE pgauth_app LOGIN IN ROLE pgauth_reader;\n"
                  "SELECT session_token FROM auth.sign_up_email('late@example.com', 'correct-horse-battery', 'Late');\n")
        return out.stdout.strip().splitlines()[-1]

    def test_starts_without_database_then_recovers(self):
        self.wait_for_app()
        token = secrets.token_urlsafe(32)
        for path in ("/me", "/maybe"):
            r = self.http.get(path, headers={"authorization": f"Bearer {token}"})
            self.assertEqual(r.status_code, 503, f"{path} before the database exists: {r.status_code} {r.text}")
            self.assertEqual(r.json()["code"], "SERVICE_UNAVAILABLE", r.text)
            self.assertTrue(r.json()["message"], r.text)
        r = self.http.get("/me")  # no credential: 401 without a database call
        self.assertEqual((r.status_code, r.json()["code"]), (401, "UNAUTHORIZED"), r.text)

        token = self.start_database()
        signature = base64.b64encode(hmac.new(self.secret.encode(), token.encode(), hashlib.sha256).digest()).decode()
        cookie = {"cookie": f"{COOKIE}={token}.{signature}"}  # signed with the secret of PGAUTH_SECRET_FILE
        deadline = time.monotonic() + 30
        seen = []
        while True:
            r = self.http.get("/me", headers=cookie)
            seen.append(r.status_code)
            if r.status_code == 200:
                break
            self.assertEqual(r.status_code, 503, f"while the database comes up: {r.text}")
            if time.monotonic() > deadline:
                self.fail(f"no 200 within 30 s of the database coming up (saw {sorted(set(seen))}):\n"
                          f"{self.app_output()}")
            time.sleep(0.2)
        self.assertEqual(r.json()["email"], "late@example.com", r.text)
        self.assertIsNone(self.app.poll(), "the app was restarted")
        r = self.http.get("/me", headers={"authorization": f"Bearer {token}"})
        self.assertEqual(r.status_code, 200, r.text)
        r = self.http.get("/me", headers={"cookie": f"{COOKIE}={token}.{'A' * 43}="})  # wrong signature
        self.assertEqual((r.status_code, r.json()["code"]), (401, "INVALID_TOKEN"), r.text)



class InterpreterTests(unittest.TestCase):
    def test_python_without_fastapi_is_told_which_to_use(self):
        """Run by an interpreter that does not see Debian's python3-fastapi (here: without its
        site directories), the example says which interpreter to use instead of a traceback."""
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        r = subprocess.run([PYTHON, "-S", str(EXAMPLE / "app.py")], env=env, capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("has no fastapi: run this with /usr/bin/python3", r.stderr)
        self.assertNotIn("Traceback", r.stderr)

if __name__ == "__main__":
    unittest.main(verbosity=2)
