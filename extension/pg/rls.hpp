// Row-level security identity (auth.jwt_session_init, auth.session_init, auth.user_id()).
#pragma once

namespace pgauth {

// Forgets the RLS identity at the end of each transaction; from _PG_init.
void register_identity_callbacks();

}  // namespace pgauth
