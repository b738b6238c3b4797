// The error catalog: every code pgauth raises or the HTTP layer answers with,
// its SQLSTATE (class PA, digits = HTTP status), HTTP status and message.
// PG-free, so pgauth-http can link the very same table. The install script
// fills auth.error_codes from auth.error_code_catalog(), which returns these
// rows; raising an error looks the code up here and runs no SQL.
#pragma once
#include <span>
#include <string_view>

namespace pgauth {

struct ErrorCode {
    std::string_view code;      // Better-Auth style, e.g. "INVALID_TOKEN" (errdetail)
    std::string_view sqlstate;  // five characters, "PA" + the HTTP status
    int http_status;
    std::string_view message;   // errmsg unless the raise gives a reason
};

// Every row, in a stable order.
std::span<const ErrorCode> error_catalog() noexcept;

// The row for `code`, or nullptr when it is unknown (callers then use INTERNAL_ERROR).
const ErrorCode* find_error(std::string_view code) noexcept;

}  // namespace pgauth
