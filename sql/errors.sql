-- The error table and the C++ <-> PostgreSQL boundary.
SELECT code, sqlstate, http_status FROM auth.error_codes ORDER BY http_status, code;
-- every code is in class PA and its SQLSTATE's digits agree with its HTTP status
SELECT count(*) AS inconsistent FROM auth.error_codes
 WHERE sqlstate !~ '^PA' OR substr(sqlstate, 3) <> http_status::text;

-- Each failure kind becomes a clean SQL error; the backend keeps serving.
SELECT kind, try(format('SELECT auth.selftest_boundary(%L)', kind))
  FROM unnest(ARRAY['ok', 'std_exception', 'bad_alloc', 'unknown_exception', 'auth_error',
                    'postgres_error', 'crypto_failure', 'nonsense']) AS kind;
SELECT auth.selftest_boundary('std_exception');
SELECT auth.selftest_boundary('postgres_error');
SELECT auth.selftest_boundary('auth_error');
SELECT 'backend still alive' AS status, pg_backend_pid() = pg_backend_pid() AS same_backend;
-- an error inside a transaction rolls the whole call back and leaves the session usable
BEGIN;
SELECT auth.selftest_boundary('crypto_failure');
ROLLBACK;
SELECT 1 AS still_usable;
