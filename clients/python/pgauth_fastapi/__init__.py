"""FastAPI dependencies for pgauth sessions and JWTs.

    auth = PgAuth(dsn="postgresql://app_reader@db/app", secret=..., jwks_url=..., issuer=..., audience=...)
    app = FastAPI(on_startup=[auth.startup], on_shutdown=[auth.shutdown])
    auth.install(app)   # JSON error bodies {"code", "message"}

    @app.get("/me")
    async def me(user: User = Depends(auth.current_user)): ...

Sessions are checked with one SQL call, ``auth.validate_session($1)``, on a pool that
connects as a role granted ``pgauth_reader``. JWTs are verified offline against the JWKS
that pgauth-http serves at ``/api/auth/jwks``.
"""

import asyncio
import base64
import binascii
import dataclasses
import datetime
import hmac
import logging
import re
import time
import uuid
from hashlib import sha256
from typing import Any
from urllib.parse import unquote

import asyncpg
import httpx
import jwt
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

__all__ = ["PgAuth", "User", "JwtUser", "AuthError"]

log = logging.getLogger("pgauth_fastapi")

VALIDATE_SESSION = "SELECT * FROM auth.validate_session($1)"
ALGORITHMS = ("EdDSA", "ES256", "RS256")  # what a JWKS key may be used with; never HS*/none
_CURVES = {"EdDSA": ("OKP", "Ed25519"), "ES256": ("EC", "P-256"), "RS256": ("RSA", None)}
_MAX_CREDENTIAL = 1024  # longer cookies/bearer values are rejected without a database call
_MAX_JWT = 8192
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_\-]{1,256}")  # a raw session token is base64url
_SIGNATURE = re.compile(r"[A-Za-z0-9+/]{43}=")  # base64 of an HMAC-SHA256
_JWKS_MIN_REFRESH = 10.0  # an unknown kid refetches the JWKS at most this often (seconds)


@dataclasses.dataclass(frozen=True)
class User:
    """The user and session behind a valid session token."""

    id: uuid.UUID
    email: str
    name: str
    image: str | None
    email_verified: bool
    role: str | None
    para_wallet_id: str | None
    session_id: uuid.UUID
    expires_at: datetime.datetime


@dataclasses.dataclass(frozen=True)
class JwtUser:
    """The subject of a verified JWT; ``claims`` holds every verified claim."""

    id: str
    claims: dict[str, Any]


class AuthError(HTTPException):
    """401/503 with a ``{"code", "message"}`` body (once ``PgAuth.install`` is called)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(status, {"code": code, "message": message}, headers)
        self.code, self.message = code, message


def _missing() -> AuthError:
    return AuthError(401, "UNAUTHORIZED", "Authentication required.", {"WWW-Authenticate": "Bearer"})


def _invalid(message: str = "The token is invalid or expired.") -> AuthError:
    return AuthError(401, "INVALID_TOKEN", message, {"WWW-Authenticate": 'Bearer error="invalid_token"'})


def _unavailable(what: str) -> AuthError:
    return AuthError(503, "SERVICE_UNAVAILABLE", f"The {what} is unavailable. Try again later.")


def _bearer(request: Request) -> str | None:
    """The credential of an ``Authorization: Bearer`` header, '' if empty, None if absent."""
    value = request.headers.get("authorization")
    if value is None or value[:7].lower() != "bearer ":
        return None
    return value[7:].strip()


def _b64decode(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


class PgAuth:
    """Configuration and FastAPI dependencies; one instance per application."""

    def __init__(
        self,
        dsn: str | None = None,
        pool: asyncpg.Pool | None = None,
        jwks_url: str | None = None,
        issuer: str | None = None,
        audience: str | None = None,
        secret: str | None = None,
        cookie_name: str = "better-auth.session_token",
        jwks_cache_seconds: int = 300,
        pool_options: dict[str, Any] | None = None,
    ):
        if dsn is None and pool is None and jwks_url is None:
            raise ValueError("PgAuth needs a dsn or a pool (sessions), or a jwks_url (JWTs)")
        self.dsn, self.jwks_url, self.issuer, self.audience = dsn, jwks_url, issuer, audience
        self.secret = secret.encode() if secret else None
        self.cookie_names = (cookie_name, "__Secure-" + cookie_name)
        self.jwks_cache_seconds = jwks_cache_seconds
        self.pool_options = {"min_size": 1, "max_size": 10, "timeout": 5, "command_timeout": 5,
                             **(pool_options or {})}
        self._pool, self._owns_pool = pool, pool is None
        self._pool_lock = asyncio.Lock()
        self._keys: dict[str, tuple[str, Any]] = {}
        self._keys_at: float | None = None  # time.monotonic() of the last JWKS fetch
        self._keys_lock = asyncio.Lock()

    # ------------------------------------------------------------ lifecycle

    async def startup(self) -> None:
        """Creates the pool (if given a dsn). Without it, the first request does."""
        if self.dsn is not None or self._pool is not None:
            await self._get_pool()

    async def shutdown(self) -> None:
        if self._owns_pool and self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def __aenter__(self) -> "PgAuth":
        await self.startup()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()

    def install(self, app: FastAPI) -> None:
        """Registers the JSON error handler and the startup/shutdown hooks on ``app``."""
        app.add_exception_handler(AuthError, self._error_response)
        app.add_event_handler("startup", self.startup)
        app.add_event_handler("shutdown", self.shutdown)

    @staticmethod
    async def _error_response(request: Request, exc: AuthError) -> JSONResponse:
        return JSONResponse({"code": exc.code, "message": exc.message}, exc.status_code, exc.headers)

    async def _get_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            if self.dsn is None:
                raise RuntimeError("PgAuth has no dsn or pool: session dependencies need one")
            async with self._pool_lock:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(self.dsn, **self.pool_options)
        return self._pool

    # ------------------------------------------------------------ sessions

    def _session_token(self, value: str, cookie: bool) -> str | None:
        """The raw token in a cookie or Bearer value (URL-encoded, maybe signed); None if malformed.

        With a secret, a signed value must carry a valid HMAC and a cookie must be signed
        (as pgauth-http does); without one, a signature-shaped suffix is dropped unchecked.
        """
        if len(value) > _MAX_CREDENTIAL:
            return None
        value = unquote(value, errors="replace")
        token, dot, signature = value.rpartition(".")
        if not dot:
            if cookie and self.secret is not None:
                return None
            token = value
        elif self.secret is not None:
            given = _b64decode(signature)
            expected = hmac.new(self.secret, token.encode(), sha256).digest()
            if given is None or not hmac.compare_digest(given, expected):
                return None
        elif not _SIGNATURE.fullmatch(signature):
            token = value
        return token if _TOKEN_CHARS.fullmatch(token) else None

    async def _session(self, request: Request) -> User | None:
        """The session's user; None if nothing presented; raises 401 if presented but not valid.

        The first well-formed credential is checked: a session cookie, else the Bearer token.
        """
        presented = False
        token = None
        for name in self.cookie_names:
            value = request.cookies.get(name)
            if value is not None and token is None:
                presented = True
                token = self._session_token(value, cookie=True)
        if token is None:
            value = _bearer(request)
            if value is not None:
                presented = True
                token = self._session_token(value, cookie=False)
        if token is None:
            if presented:
                raise _invalid()
            return None
        try:
            pool = await self._get_pool()
            async with pool.acquire(timeout=self.pool_options["timeout"]) as conn:
                row = await conn.fetchrow(VALIDATE_SESSION, token)
        except (OSError, asyncio.TimeoutError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as e:
            log.warning("pgauth: the database is unavailable: %r", e)
            raise _unavailable("database") from None
        except Exception:
            log.exception("pgauth: auth.validate_session failed")
            raise _unavailable("database") from None
        if row is None:
            raise _invalid()
        return User(id=row["user_id"], email=row["email"], name=row["name"], image=row["image"],
                    email_verified=row["email_verified"], role=row["role"],
                    para_wallet_id=row["para_wallet_id"], session_id=row["session_id"],
                    expires_at=row["expires_at"])

    async def current_user(self, request: Request) -> User:
        """Dependency: the signed-in user; 401 without a valid session."""
        user = await self._session(request)
        if user is None:
            raise _missing()
        return user

    async def optional_user(self, request: Request) -> User | None:
        """Dependency: the signed-in user, or None (no or invalid session). 503 if the database is down."""
        try:
            return await self._session(request)
        except AuthError as e:
            if e.status_code == 401:
                return None
            raise

    # ------------------------------------------------------------ JWTs

    @staticmethod
    def _parse_jwks(data: Any) -> dict[str, tuple[str, Any]]:
        """kid -> (algorithm, public key) for the usable signing keys of a JWKS document."""
        keys = {}
        jwks = data.get("keys") if isinstance(data, dict) else None
        for jwk in jwks if isinstance(jwks, list) else []:
            if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
                continue
            alg = jwk.get("alg")  # the algorithm comes from the key, never from a token
            if alg not in ALGORITHMS or jwk.get("use", "sig") != "sig":
                continue
            kty, crv = _CURVES[alg]
            if jwk.get("kty") != kty or (crv is not None and jwk.get("crv") != crv):
                continue
            try:
                key = jwt.PyJWK(jwk, algorithm=alg).key
            except Exception as e:
                log.warning("pgauth: skipping JWK %r: %s", jwk["kid"], e)
                continue
            if alg == "RS256" and key.key_size < 2048:
                continue
            keys[jwk["kid"]] = (alg, key)
        return keys

    async def _fetch_jwks(self, seen: float | None) -> None:
        async with self._keys_lock:
            if self._keys_at != seen:  # another request refreshed meanwhile
                return
            try:
                async with httpx.AsyncClient(timeout=5, follow_redirects=False) as client:
                    response = await client.get(self.jwks_url)
                response.raise_for_status()
                self._keys = self._parse_jwks(response.json())
            except (httpx.HTTPError, ValueError) as e:
                log.warning("pgauth: fetching the JWKS from %s failed: %s", self.jwks_url, e)
                raise _unavailable("key set") from None
            self._keys_at = time.monotonic()

    async def _signing_key(self, kid: str) -> tuple[str, Any] | None:
        if self.jwks_url is None:
            raise RuntimeError("PgAuth has no jwks_url: jwt_user needs one")
        seen = self._keys_at
        if seen is None or time.monotonic() - seen > self.jwks_cache_seconds:
            await self._fetch_jwks(seen)
        elif kid not in self._keys and time.monotonic() - seen >= _JWKS_MIN_REFRESH:
            await self._fetch_jwks(seen)  # the key set may have been rotated
        return self._keys.get(kid)

    async def jwt_user(self, request: Request) -> JwtUser:
        """Dependency: the subject of a valid ``Authorization: Bearer <JWT>``; 401 otherwise."""
        token = _bearer(request)
        if token is None:
            raise _missing()
        if not token or len(token) > _MAX_JWT or not token.isascii():
            raise _invalid()
        try:
            header = jwt.get_unverified_header(token)
        except (jwt.PyJWTError, ValueError, TypeError):
            raise _invalid() from None
        kid = header.get("kid")
        if not isinstance(kid, str) or header.get("alg") not in ALGORITHMS or "crit" in header:
            raise _invalid()
        found = await self._signing_key(kid)
        if found is None:
            raise _invalid()
        alg, key = found
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],  # the key's algorithm, never the token's choice
                issuer=self.issuer,
                audience=self.audience,
                options={"require": ["exp", "iat", "sub"], "verify_aud": self.audience is not None},
            )
        except (jwt.PyJWTError, ValueError, TypeError):
            raise _invalid() from None
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise _invalid()
        return JwtUser(id=sub, claims=claims)
