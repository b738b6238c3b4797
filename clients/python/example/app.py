"""A tiny FastAPI app behind pgauth.

    cd clients/python/example
    PGAUTH_READER_DSN=postgresql://app_reader@127.0.0.1:5432/app \\
    PGAUTH_JWKS_URL=http://127.0.0.1:8080/api/auth/jwks \\
    PGAUTH_ISSUER=http://127.0.0.1:8080 \\
    PGAUTH_SECRET=... \\
    /usr/bin/python3 -m uvicorn app:app --port 8000
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # pgauth_fastapi, next to this directory

from fastapi import Depends, FastAPI  # noqa: E402

from pgauth_fastapi import JwtUser, PgAuth, User  # noqa: E402

issuer = os.environ.get("PGAUTH_ISSUER")
auth = PgAuth(
    dsn=os.environ["PGAUTH_READER_DSN"],  # a login role granted pgauth_reader
    jwks_url=os.environ.get("PGAUTH_JWKS_URL"),
    issuer=issuer,
    audience=os.environ.get("PGAUTH_AUDIENCE", issuer),  # pgauth's tokens: aud = iss = its base URL
    secret=os.environ.get("PGAUTH_SECRET"),  # pgauth-http's secret: verifies signed cookies
)
app = FastAPI()
auth.install(app)


@app.get("/me")
async def me(user: User = Depends(auth.current_user)):
    return user


@app.get("/maybe")
async def maybe(user: User | None = Depends(auth.optional_user)):
    return {"user": user}


@app.get("/jwt-me")
async def jwt_me(user: JwtUser = Depends(auth.jwt_user)):
    return {"id": user.id, "claims": user.claims}
