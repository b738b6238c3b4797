-- auth.rate_limit_hit: the shared fixed-window rate limit (one atomic upsert per hit).
-- a window of 60 s with a limit of 3: three hits pass, the fourth waits for the window's end
SELECT allowed, retry_after FROM auth.rate_limit_hit('t:a', 3, 60);
SELECT allowed, retry_after FROM auth.rate_limit_hit('t:a', 3, 60);
SELECT allowed, retry_after FROM auth.rate_limit_hit('t:a', 3, 60);
SELECT allowed, retry_after BETWEEN 59 AND 60 AS about_a_minute FROM auth.rate_limit_hit('t:a', 3, 60);
SELECT allowed FROM auth.rate_limit_hit('t:a', 3, 60);
-- refused hits are not counted (the count stays just past the limit), keys are independent
SELECT hits, resets_at > now() + interval '58 seconds' AS window_from_first_hit FROM auth.rate_limits WHERE key = 't:a';
SELECT allowed, retry_after FROM auth.rate_limit_hit('t:b', 3, 60);
-- when the window has ended, a new one starts
UPDATE auth.rate_limits SET resets_at = clock_timestamp() - interval '1 second' WHERE key = 't:a';
SELECT allowed, retry_after FROM auth.rate_limit_hit('t:a', 3, 60);
SELECT hits FROM auth.rate_limits WHERE key = 't:a';
-- a limit of 1
SELECT allowed FROM auth.rate_limit_hit('t:c', 1, 30);
SELECT allowed, retry_after BETWEEN 29 AND 30 AS retry_after FROM auth.rate_limit_hit('t:c', 1, 30);
-- bad arguments: a clear 4xx code, never a crash
SELECT try($$SELECT auth.rate_limit_hit(NULL, 3, 60)$$) AS null_key;
SELECT try($$SELECT auth.rate_limit_hit('', 3, 60)$$) AS empty_key;
SELECT try(format('SELECT auth.rate_limit_hit(%L, 3, 60)', repeat('k', 513))) AS long_key;
SELECT try($$SELECT auth.rate_limit_hit('k', 0, 60)$$) AS zero_limit;
SELECT try($$SELECT auth.rate_limit_hit('k', 3, 0)$$) AS zero_window;
SELECT try($$SELECT auth.rate_limit_hit('k', 3, 86401)$$) AS long_window;
-- ended windows are pruned by later calls (about one new window in a hundred prunes up to 100 rows)
INSERT INTO auth.rate_limits SELECT 'old:' || i, clock_timestamp() - interval '1 minute', 1 FROM generate_series(1, 150) i;
SELECT setseed(0.5);
SELECT count(*) FILTER (WHERE allowed) AS allowed FROM generate_series(1, 1000) i, auth.rate_limit_hit('new:' || i, 1, 60);
SELECT count(*) < 150 AS pruned FROM auth.rate_limits WHERE key LIKE 'old:%';
SELECT count(*) AS live_rows_kept FROM auth.rate_limits WHERE key LIKE 'new:%';
-- only the service and admin roles may call it; nobody reads the table directly
SET ROLE regress_pgauth_reader;
SELECT try($$SELECT auth.rate_limit_hit('k', 3, 60)$$) AS reader;
SELECT try($$SELECT count(*) FROM auth.rate_limits$$) AS reader_table;
RESET ROLE;
SET ROLE regress_pgauth_service;
SELECT allowed FROM auth.rate_limit_hit('service', 3, 60);
SELECT try($$SELECT count(*) FROM auth.rate_limits$$) AS service_table;
RESET ROLE;
DELETE FROM auth.rate_limits;
