"""FastAPI dependencies for pgauth sessions and JWTs.

    auth = PgAuth(dsn="postgresql://app_reader@db/app", secret=..., jwks_url=..., issuer=..., audience=...)
    # or: auth = PgAuth.from_env()   # PGAUTH_READER_DSN, PGAUTH_SECRET(_FILE), ... (see from_env)
    app = FastAPI()
    auth.install(app)   # JSON error bodies {"code", "message"}, pool start/stop

    @app.get("/me")
    async def me(user: User = Depends(auth.current_user)): ...

Sessions are checked with one SQL call, ``auth.validate_session($1)``, on a pool that
connects as a role granted ``pgauth_reader``. JWTs are verified offline against the JWKS
that pgauth-http serves at ``/api/auth/jwks``.

The database may be down when the application starts, or go down later: session
dependencies then answer 503 ``SERVICE_UNAVAILABLE`` and the pool is (re)created by a
later request once the database is back, without restarting the application.
"""

import asyncio
import base64
import binascii
import dataclasses
import datetime
import hmac
import logging
import os
import re
import time
import uuid
from hashlib import sha256
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg
import httpx
import jwt
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

__all__ = ["PgAuth", "User", "JwtUser", "AccessToken", "AuthError", "read_env_file"]

log = logging.getLogger("pgauth_fastapi")

VALIDATE_SESSION = "SELECT * FROM auth.validate_session($1)"
VERIFY_ACCESS_TOKEN = ("SELECT subject, client_id, scopes, expires_at, audience"
                       " FROM auth.verify_access_token($1, $2)")
ALGORITHMS = ("EdDSA", "ES256", "RS256")  # what a JWKS key may be used with; never HS*/none
_CURVES = {"EdDSA": ("OKP", "Ed25519"), "ES256": ("EC", "P-256"), "RS256": ("RSA", None)}
_MAX_CREDENTIAL = 1024  # longer cookies/bearer values are rejected without a database call
_MAX_JWT = 8192
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_\-]{1,256}")  # a raw session token is base64url
_SIGNATURE = re.compile(r"[A-Za-z0-9+/]{43}=")  # base64 of an HMAC-SHA256
_JWKS_MIN_REFRESH = 10.0  # an unknown kid refetches the JWKS at most this often (seconds)
_POOL_RETRY = 1.0  # after a failed connection, requests answer 503 without retrying for this long (seconds)
# The connection failed, not the query: the database went away (restart, pg_terminate_backend,
# network) or the client lost track of the protocol state because of it.
_CONNECTION_ERRORS = (OSError, asyncio.TimeoutError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
                      asyncpg.InternalClientError, asyncpg.OperatorInterventionError)
_ENV_LINE = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)")


def read_env_file(path: str | os.PathLike) -> dict[str, str]:
    """``KEY=value`` lines (optionally ``export``-ed, optionally quoted) of a shell env file.

    This reads the ``.run/pgauth.env`` that ``make run`` writes; '#' lines and blank lines are
    skipped. Nothing is expanded: values are taken literally.
    """
    values = {}
    for line in Path(path).read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ENV_LINE.fullmatch(line)
        if match is None:
            raise ValueError(f"{path}: not a KEY=value line: {line!r}")
        key, value = match[1], match[2].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


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


@dataclasses.dataclass(frozen=True)
class AccessToken:
    """An OAuth access token that ``auth.verify_access_token`` accepted for a resource.

    ``subject`` is the user id, or None for a client_credentials token."""

    subject: str | None
    client_id: str
    scopes: tuple[str, ...]
    expires_at: datetime.datetime
    audience: tuple[str, ...]


def resource_metadata_url(resource: str) -> str:
    """Where RFC 9728 puts the metadata of ``resource``: ``/.well-known/oauth-protected-resource``
    inserted between its origin and its path."""
    parts = urlsplit(resource)
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, "/.well-known/oauth-protected-resource" + path, "", ""))


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
    return AuthError(503, "SERVICE_UNAVAILABLE", f"The {what} is unavailable. Try again later.",
                     {"Retry-After": "1"})


class _PoolUnavailable(Exception):
    """The pool could not be created recently; not retried before ``_POOL_RETRY`` seconds."""


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
        close_timeout: float = 10.0,
    ):
        if dsn is None and pool is None and jwks_url is None:
            raise ValueError("PgAuth needs a dsn or a pool (sessions), or a jwks_url (JWTs)")
        self.dsn, self.jwks_url, self.issuer, self.audience = dsn, jwks_url, issuer, audience
        self.secret = secret.encode() if secret else None
        self.cookie_names = (cookie_name, "__Secure-" + cookie_name)
        self.jwks_cache_seconds = jwks_cache_seconds
        self.pool_options = {"min_size": 1, "max_size": 10, "timeout": 5, "command_timeout": 5,
                             **(pool_options or {})}
        self.close_timeout = close_timeout  # shutdown waits this long for connections in use, then terminates them
        self._pool, self._owns_pool = pool, pool is None
        self._pool_lock = asyncio.Lock()
        self._pool_failed_at: float | None = None  # time.monotonic() of the last failed pool creation
        self._keys: dict[str, tuple[str, Any]] = {}
        self._keys_at: float | None = None  # time.monotonic() of the last JWKS fetch
        self._keys_lock = asyncio.Lock()

    @classmethod
    def from_env(cls, env_file: str | os.PathLike | None = None, environ: Mapping[str, str] | None = None,
                 **options: Any) -> "PgAuth":
        """A PgAuth configured from environment variables, falling back to an env file.

        ``environ`` (default ``os.environ``) wins over ``env_file`` (such as the
        ``.run/pgauth.env`` that ``make run`` writes), key by key:

        - ``PGAUTH_READER_DSN``: a login role granted ``pgauth_reader`` (sessions);
        - ``PGAUTH_SECRET``, or ``PGAUTH_SECRET_FILE`` naming a file that holds it: pgauth-http's
          secret, to check signed cookies;
        - ``PGAUTH_JWKS_URL``, ``PGAUTH_ISSUER`` and ``PGAUTH_AUDIENCE`` (default: the issuer): JWTs.

        Keyword ``options`` are passed to ``PgAuth`` and win over both.
        """
        layers = [dict(os.environ if environ is None else environ)]
        if env_file is not None:
            layers.append(read_env_file(env_file))

        def get(key: str) -> str | None:
            return next((layer[key] for layer in layers if layer.get(key)), None)

        secret = None
        for layer in layers:  # a secret from the environment wins over a secret file named in env_file
            if layer.get("PGAUTH_SECRET"):
                secret = layer["PGAUTH_SECRET"]
            elif layer.get("PGAUTH_SECRET_FILE"):
                secret = Path(layer["PGAUTH_SECRET_FILE"]).read_text().strip()
            if secret:
                break
        issuer = get("PGAUTH_ISSUER")
        config: dict[str, Any] = {"dsn": get("PGAUTH_READER_DSN"), "secret": secret, "jwks_url": get("PGAUTH_JWKS_URL"),
                                  "issuer": issuer, "audience": get("PGAUTH_AUDIENCE") or issuer}
        config.update(options)
        return cls(**config)

    # ------------------------------------------------------------ lifecycle

    async def startup(self) -> None:
        """Creates the pool (if given a dsn). If the database is unreachable, the application
        still starts: session dependencies answer 503 and a later request creates the pool."""
        if self._pool is None and self.dsn is not None:
            try:
                await self._get_pool()
            except Exception as e:  # noqa: BLE001 - any failure: start anyway, retry on a request
                log.warning("pgauth: the database is unavailable at startup (%r); requests will retry", e)

    async def shutdown(self) -> None:
        if self._owns_pool and self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                await asyncio.wait_for(pool.close(), self.close_timeout)
            except Exception as e:  # noqa: BLE001 - shutting down: never hang or fail here
                log.warning("pgauth: closing the pool failed (%r); terminating its connections", e)
                pool.terminate()

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

    def _recently_failed(self) -> bool:
        return self._pool_failed_at is not None and time.monotonic() - self._pool_failed_at < _POOL_RETRY

    async def _get_pool(self) -> asyncpg.Pool:
        """The pool, created on first use. A failed creation is retried by a later call, but
        not within ``_POOL_RETRY`` seconds: meanwhile callers fail fast instead of queueing up
        behind connection attempts to a database that is down."""
        if self._pool is None:
            if self.dsn is None:
                raise RuntimeError("PgAuth has no dsn or pool: session dependencies need one")
            if self._recently_failed():
                raise _PoolUnavailable()
            async with self._pool_lock:
                if self._pool is None:
                    if self._recently_failed():  # the request before us just failed
                        raise _PoolUnavailable()
                    try:
                        self._pool = await asyncpg.create_pool(self.dsn, **self.pool_options)
                    except Exception:
                        self._pool_failed_at = time.monotonic()
                        raise
                    self._pool_failed_at = None
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
                try:
                    row = await conn.fetchrow(VALIDATE_SESSION, token)
                except _CONNECTION_ERRORS:
                    # Never hand a broken connection back for a reset and reuse: drop it, and
                    # the pool opens a new one for this slot on a later request.
                    conn.terminate()
                    raise
        except _PoolUnavailable:
            raise _unavailable("database") from None
        except _CONNECTION_ERRORS as e:
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

    # ------------------------------------------------------------ OAuth resource servers (MCP)

    def mcp_bearer(self, resource: str, scopes: tuple[str, ...] | list[str] = (),
                   resource_metadata: str | None = None):
        """A dependency for an OAuth-protected resource, such as an MCP server at ``resource``.

        It needs ``Authorization: Bearer <access token>`` whose audience is ``resource`` and
        that carries every scope in ``scopes``, checked with one SQL call,
        ``auth.verify_access_token(token, resource)``, and returns an ``AccessToken``.
        A missing or rejected token answers 401 with
        ``WWW-Authenticate: Bearer resource_metadata="<RFC 9728 metadata URL>"`` (and
        ``error="invalid_token"`` when a token was sent); a token without a needed scope answers
        403 ``error="insufficient_scope", scope="<every needed scope>"``.
        """
        needed = tuple(scopes)
        metadata = resource_metadata or resource_metadata_url(resource)
        scope_param = f', scope="{" ".join(needed)}"' if needed else ""

        def unauthorized(presented: bool) -> AuthError:
            challenge = f'Bearer resource_metadata="{metadata}"{scope_param}'
            if presented:
                challenge += ', error="invalid_token"'
                return AuthError(401, "INVALID_TOKEN", "The access token is invalid, expired or not for this resource.",
                                 {"WWW-Authenticate": challenge})
            return AuthError(401, "UNAUTHORIZED", "A Bearer access token is required.", {"WWW-Authenticate": challenge})

        async def dependency(request: Request) -> AccessToken:
            token = _bearer(request)
            if token is None:
                raise unauthorized(False)
            if not token or len(token) > _MAX_JWT or not token.isascii() or not token.isprintable() or " " in token:
                raise unauthorized(True)
            row = await self._fetchrow(VERIFY_ACCESS_TOKEN, token, resource)
            if row is None:
                raise unauthorized(True)
            granted = tuple(row["scopes"] or ())
            if any(s not in granted for s in needed):
                raise AuthError(403, "INSUFFICIENT_SCOPE", f"The access token needs the scopes: {' '.join(needed)}.",
                                {"WWW-Authenticate": f'Bearer error="insufficient_scope"{scope_param}, '
                                                     f'resource_metadata="{metadata}"'})
            return AccessToken(subject=row["subject"], client_id=row["client_id"], scopes=granted,
                               expires_at=row["expires_at"], audience=tuple(row["audience"] or ()))

        return dependency

    async def _fetchrow(self, query: str, *args: Any) -> Any:
        """One row of one query on the pool; 503 when the database is unavailable."""
        try:
            pool = await self._get_pool()
            async with pool.acquire(timeout=self.pool_options["timeout"]) as conn:
                try:
                    return await conn.fetchrow(query, *args)
                except _CONNECTION_ERRORS:
                    conn.terminate()
                    raise
        except _PoolUnavailable:
            raise _unavailable("database") from None
        except _CONNECTION_ERRORS as e:
            log.warning("pgauth: the database is unavailable: %r", e)
            raise _unavailable("database") from None
        except Exception:
            log.exception("pgauth: %s failed", query.split(" FROM ")[-1].split("(")[0])
            raise _unavailable("database") from None

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
