# pgauth — PGXS build of the extension (the DBA path: make && make install),
# plus the project entry points: make run, make test, make bench, make fuzz.

EXTENSION  = pgauth
MODULE_big = pgauth
SRCS       = $(wildcard extension/core/*.cpp) $(wildcard extension/pg/*.cpp)
OBJS       = $(SRCS:.cpp=.o)
DATA       = $(wildcard extension/sql/pgauth--*.sql) $(wildcard extension/sql/pgauth--*.control)

# pg_regress: one file per area, explicit order; `make check-regress-list` fails
# if a file in sql/ is missing here.
REGRESS      = setup password session errors privileges avatar jwt responses ratelimit lockout rls vault apikeys email social oauth_clients oauth audit admin two_factor organization hardening upgrade
REGRESS_OPTS = --inputdir=. --outputdir=build/regress
# isolationtester: concurrency (specs/*.spec)
ISOLATION      = signup_race avatar_claim_race rate_limit_race api_key_race api_key_limit_race outbox_claim otp_attempts_race social_first_sign_in social_flow_race oauth_refresh_race ban_sign_in_race org_last_owner org_membership_limit_race org_owner_delete_race org_rls_membership_cache
ISOLATION_OPTS = --inputdir=. --outputdir=build/isolation

PG_CONFIG ?= pg_config
PG_CPPFLAGS += -I$(CURDIR)/extension
# -MMD -MP: rebuild objects when a header they include changes (PGXS tracks only .c)
PG_CXXFLAGS += -MMD -MP -std=c++20 -fPIC -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-register -O2
SHLIB_LINK  += -lsodium -lssl -lcrypto -lcrypt -lstdc++

# Debian's PGXS also emits LLVM bitcode through clang; we don't ship JIT bitcode.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS's C++ rule uses CXXFLAGS; make sure our flags reach it.
override CXXFLAGS += $(PG_CXXFLAGS)
-include $(OBJS:.o=.d)
EXTRA_CLEAN += $(OBJS:.o=.d)

.PHONY: check-regress-list run test bench soak stop unit fuzz

check-regress-list:
	@missing=0; for f in specs/*.spec; do b=$$(basename $$f .spec); \
	  case " $(ISOLATION) " in *" $$b "*) ;; *) echo "specs/$$b.spec is not in ISOLATION"; missing=1;; esac; done; \
	  for f in sql/*.sql; do b=$$(basename $$f .sql); \
	  case " $(REGRESS) " in *" $$b "*) ;; *) echo "sql/$$b.sql is not in REGRESS"; missing=1;; esac; done; \
	  exit $$missing

run:
	bash scripts/run.sh

# make test SANITIZE=1: pgauth-http and the unit tests under ASan+UBSan.
test:
	SANITIZE=$(SANITIZE) bash scripts/test.sh

# libFuzzer harnesses, FUZZ_SECONDS (default 300) each; make fuzz FUZZ=jwt runs one.
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh $(FUZZ)

bench:
	bash bench/run.sh

# Not part of make test: 10 minutes of wrk at 256 connections with a PostgreSQL
# restart in the middle (SOAK_SECONDS=60 for a short run).
soak:
	bash bench/soak.sh

# Stops what `make run` started: pgauth-http (if still running) and the `dev` cluster.
stop:
	bash scripts/stop.sh
