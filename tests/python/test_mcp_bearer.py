"""pgauth_fastapi's mcp_bearer: an OAuth-protected resource (an MCP server) in FastAPI,
checked with auth.verify_access_token (run through run.sh).

Access tokens come from the extension itself (the client_credentials grant of
auth.oauth_token, as pgauth-http's token endpoint would mint them): one for this
resource, one for another audience, one without the needed scope.
"""

import asyncio
import json
import os
import secrets
import unittest

import asyncpg
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from order import load_tests  # noqa: F401 - the test order (PGAUTH_PY_ORDER)
from pgauth_fastapi import AccessToken, PgAuth

SERVICE_DSN = os.environ.get("PGAUTH_PY_SERVICE_DSN")
READER_DSN = os.environ.get("PGAUTH_PY_READER_DSN")
ADMIN_DSN = os.environ.get("PGAUTH_PY_ADMIN_DSN")
RESOURCE = "https://mcp.example.test/mcp"
OTHER = "https://other.example.test/mcp"
METADATA = "https://mcp.example.test/.well-known/oauth-protected-resource/mcp"


def run(coro):
    return asyncio.run(coro)


async def _mint(client_id: str, secret: str, resource: str, scope: str) -> str:
    conn = await asyncpg.connect(SERVICE_DSN)
    try:
        body = await conn.fetchval(
            "SELECT auth.oauth_token($1::jsonb, $2::jsonb)::text",
            json.dumps({"grant_type": "client_credentials", "resource": resource, "scope": scope}),
            json.dumps({"method": "client_secret_post", "client_id": client_id, "client_secret": secret}))
    finally:
        await conn.close()
    return json.loads(body)["access_token"]


class McpBearerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not (SERVICE_DSN and READER_DSN and ADMIN_DSN):
            raise RuntimeError("run through tests/python/run.sh")

        async def setup():
            conn = await asyncpg.connect(ADMIN_DSN)
            try:
                answer = await conn.fetchval(
                    "SELECT auth.oauth_create_client($1::jsonb)::text",
                    json.dumps({"client_name": "mcp bearer test " + secrets.token_hex(4),
                                "grant_types": ["client_credentials"], "response_types": [],
                                "token_endpoint_auth_method": "client_secret_post",
                                "scope": "profile email"}))
            finally:
                await conn.close()
            client = json.loads(answer)
            cid, secret = client["client_id"], client["client_secret"]
            return (cid, await _mint(cid, secret, RESOURCE, "profile email"),
                    await _mint(cid, secret, OTHER, "profile email"), await _mint(cid, secret, RESOURCE, "email"))

        cls.client_id, cls.good, cls.other_audience, cls.no_profile = run(setup())
        auth = PgAuth(dsn=READER_DSN)
        app = FastAPI()
        auth.install(app)
        need_profile = auth.mcp_bearer(RESOURCE, scopes=["profile"])

        @app.post("/mcp")
        async def mcp(token: AccessToken = Depends(need_profile)):
            return {"client_id": token.client_id, "scopes": list(token.scopes), "subject": token.subject,
                    "audience": list(token.audience)}

        cls.http = TestClient(app)
        cls.http.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.http.__exit__(None, None, None)

    def post(self, token=None):
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return self.http.post("/mcp", headers=headers, json={})

    def test_the_right_audience_is_accepted(self):
        r = self.post(self.good)
        self.assertEqual(r.status_code, 200, r.text)
        body = r.json()
        self.assertEqual(body["client_id"], self.client_id)
        self.assertIn("profile", body["scopes"])
        self.assertIsNone(body["subject"])  # a client_credentials token speaks for no user
        self.assertIn(RESOURCE, body["audience"])

    def test_another_audience_is_refused_with_invalid_token(self):
        r = self.post(self.other_audience)
        self.assertEqual(r.status_code, 401, r.text)
        challenge = r.headers["www-authenticate"]
        self.assertTrue(challenge.startswith("Bearer "), challenge)
        self.assertIn(f'resource_metadata="{METADATA}"', challenge)
        self.assertIn('error="invalid_token"', challenge)

    def test_no_token_gets_the_resource_metadata_and_no_error_code(self):
        r = self.post()
        self.assertEqual(r.status_code, 401, r.text)
        challenge = r.headers["www-authenticate"]
        self.assertIn(f'resource_metadata="{METADATA}"', challenge)
        self.assertNotIn("error=", challenge)
        self.assertEqual(r.json()["code"], "UNAUTHORIZED")

    def test_a_garbage_token_is_refused(self):
        for token in ("x", "a.b.c", "é" * 10):
            with self.subTest(token=token):
                r = self.http.post("/mcp", headers={"Authorization": f"Bearer {token}".encode()}, json={})
                self.assertEqual(r.status_code, 401, r.text)

    def test_a_missing_scope_gets_403_insufficient_scope(self):
        r = self.post(self.no_profile)
        self.assertEqual(r.status_code, 403, r.text)
        challenge = r.headers["www-authenticate"]
        self.assertIn('error="insufficient_scope"', challenge)
        self.assertIn('scope="profile"', challenge)
        self.assertIn(f'resource_metadata="{METADATA}"', challenge)


if __name__ == "__main__":
    unittest.main()
