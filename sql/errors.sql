-- The error table and the C++ <-> PostgreSQL boundary.
SELECT code, sqlstate, http_status FROM auth.error_codes ORDER BY http_status, code;
-- every code is in class PA and its SQLSTATE's digits agree with its HTTP status
SELECT count(*) AS inconsistent FROM auth.error_codes
 WHERE sqlstate !~ '^PA' OR substr(sqlstate, 3) <> http_status::text;

-- the table holds exactly the catalog compiled into the library (which raising uses): both ways
(SELECT code, sqlstate, http_status, message FROM auth.error_codes
 EXCEPT SELECT * FROM auth.error_code_catalog())
UNION ALL
(SELECT * FROM auth.error_code_catalog()
 EXCEPT SELECT code, sqlstate, http_status, message FROM auth.error_codes);
SELECT (SELECT count(*) FROM auth.error_code_catalog()) = (SELECT count(*) FROM auth.error_codes) AS same_count;
-- auth.raise uses the compiled catalog: SQLSTATE, message and detail; unknown codes are INTERNAL_ERROR
SELECT try($$SELECT auth.raise('USER_NOT_FOUND')$$) AS known,
       try($$SELECT auth.raise('INVALID_TOKEN', 'custom reason')$$) AS with_reason,
       try($$SELECT auth.raise('NO_SUCH_CODE')$$) AS unknown;

-- Each failure kind becomes a clean SQL error; the backend keeps serving.
SELECT pg_backend_pid() AS pid_before \gset
SELECT kind, try(format('SELECT auth.selftest_boundary(%L)', kind))
  FROM unnest(ARRAY['ok', 'std_exception', 'bad_alloc', 'unknown_exception', 'auth_error',
                    'postgres_error', 'crypto_failure', 'nonsense']) AS kind;
SELECT auth.selftest_boundary('std_exception');
SELECT auth.selftest_boundary('postgres_error');
SELECT auth.selftest_boundary('auth_error');
-- the same backend process answers (a crash would have forced a reconnect to a new one)
SELECT 'backend still alive' AS status, pg_backend_pid() = :pid_before AS same_backend;
-- an error inside a transaction rolls the whole call back and leaves the session usable
BEGIN;
SELECT auth.selftest_boundary('crypto_failure');
ROLLBACK;
SELECT 1 AS still_usable;
