-- Installs pgauth in the regression database and prepares test roles and helpers.
SET client_min_messages = error;  -- (the preload warning depends on the server's configuration)
CREATE EXTENSION pgauth;
RESET client_min_messages;
SELECT extname, extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'pgauth') AS is_default
  FROM pg_extension WHERE extname = 'pgauth';

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_pgauth_reader') THEN
        CREATE ROLE regress_pgauth_reader NOLOGIN IN ROLE pgauth_reader;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_pgauth_service') THEN
        CREATE ROLE regress_pgauth_service NOLOGIN IN ROLE pgauth_service;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_pgauth_admin') THEN
        CREATE ROLE regress_pgauth_admin NOLOGIN IN ROLE pgauth_admin;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_pgauth_nobody') THEN
        CREATE ROLE regress_pgauth_nobody NOLOGIN;
    END IF;
END
$$;

-- try(sql): runs sql and reports either 'ok' or 'SQLSTATE DETAIL: message', so the
-- expected output pins the exact error without unstable context lines.
CREATE FUNCTION public.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    st text; det text; msg text;
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, det = PG_EXCEPTION_DETAIL, msg = MESSAGE_TEXT;
    RETURN st || ' ' || coalesce(nullif(det, ''), '-') || ': ' || msg;
END
$$;
GRANT EXECUTE ON FUNCTION public.try(text) TO PUBLIC;
