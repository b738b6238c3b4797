#!/usr/bin/python3
"""A tiny FastAPI app behind pgauth.

After ``make run`` (which writes ``.run/pgauth.env``), from the repository root:

    /usr/bin/python3 clients/python/example/app.py            # http://127.0.0.1:8000/me

or with uvicorn's own command line:

    /usr/bin/python3 -m uvicorn --app-dir clients/python/example app:app --port 8000

Use Debian's ``/usr/bin/python3`` (it sees the python3-fastapi, python3-asyncpg, ...
packages), or a virtual environment made with ``--system-site-packages``.

Configuration (see ``PgAuth.from_env``): environment variables win over the env file
``PGAUTH_ENV_FILE`` (default: ``.run/pgauth.env`` of this checkout, if it exists):
``PGAUTH_READER_DSN``, ``PGAUTH_SECRET`` or ``PGAUTH_SECRET_FILE``, ``PGAUTH_JWKS_URL``,
``PGAUTH_ISSUER``, ``PGAUTH_AUDIENCE``. The database may be down when the app starts:
``/me`` answers 503 until it is back.
"""

import os
import sys
from pathlib import Path

try:
    from fastapi import Depends, FastAPI
except ImportError:
    sys.exit(f"{sys.executable} has no fastapi: run this with /usr/bin/python3 (Debian's python3-fastapi) "
             "or from a virtual environment made with --system-site-packages")

try:
    from pgauth_fastapi import JwtUser, PgAuth, User
except ImportError:  # not installed (pip install ./clients/python): use the copy next to this directory
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from pgauth_fastapi import JwtUser, PgAuth, User

DEFAULT_ENV_FILE = Path(__file__).resolve().parents[3] / ".run/pgauth.env"  # written by `make run`


def env_file() -> Path | None:
    """PGAUTH_ENV_FILE if set ('' for none), else make run's file if it exists."""
    if "PGAUTH_ENV_FILE" in os.environ:
        return Path(os.environ["PGAUTH_ENV_FILE"]) if os.environ["PGAUTH_ENV_FILE"] else None
    return DEFAULT_ENV_FILE if DEFAULT_ENV_FILE.is_file() else None


auth = PgAuth.from_env(env_file())  # the DSN names a login role granted pgauth_reader
if auth.dsn is None:
    sys.exit("PGAUTH_READER_DSN is not set and no env file names it: run `make run` first, or set PGAUTH_ENV_FILE")
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


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "8000")))
