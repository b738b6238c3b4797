// Sign-in lockout (ASVS V2.2.1): consecutive failed sign-ins per email.
#pragma once

namespace pgauth {

// From _PG_init: when the library is preloaded, reserve the shared table.
void request_lockout_memory();

}  // namespace pgauth
