// /mcp: the reference MCP resource server (issue 13), and how any app protects its
// own. Streamable HTTP with JSON answers (no SSE stream: GET answers 405), stateless
// (no Mcp-Session-Id). Every request needs a Bearer access token minted for this
// resource: one SQL call, auth.verify_access_token(token, '<base>/mcp'), which
// checks either kind of token, its audience and its expiry. Then:
//   no token, or one that does not verify  401 + WWW-Authenticate: Bearer resource_metadata="..."
//   a token without the required scopes     403 + error="insufficient_scope", scope="..."
// The protected-resource metadata (RFC 9728) is at /.well-known/oauth-protected-resource/mcp
// (and at /.well-known/oauth-protected-resource, for clients that probe the root).
//
// JSON-RPC methods: initialize, ping, tools/list, tools/call (the `whoami` tool:
// subject, client, scopes); notifications and responses are accepted with 202.
#include <algorithm>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "config.hpp"
#include "routes/routes.hpp"
#include "server.hpp"
#include "text.hpp"

namespace pgauth::http {

using Pistache::Http::Method;
using nlohmann::json;

namespace {

const std::string mcp_path = "/mcp";
const std::string metadata_path = "/.well-known/oauth-protected-resource";

// Newest first; an unknown requested version is answered with the newest.
const std::vector<std::string> protocol_versions = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};

std::string resource(const Context& ctx) { return ctx.config().base_url + mcp_path; }
std::string metadata_url(const Context& ctx) { return ctx.config().base_url + metadata_path + mcp_path; }

std::vector<std::string> required_scopes(const Context& ctx) {
    std::vector<std::string> out;
    std::istringstream in(ctx.config().mcp_scopes);
    for (std::string s; in >> s;) out.push_back(s);
    return out;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : " ") + s;
    return out;
}

Response with_headers(Response res) {
    res.header("Cache-Control", "no-store");
    res.header("Access-Control-Expose-Headers", "WWW-Authenticate");
    return res;
}

// 401: RFC 6750 3 and RFC 9728 5.1. error="invalid_token" only when a token was sent.
Response unauthorized(const Context& ctx, bool had_token) {
    std::string challenge = "Bearer resource_metadata=\"" + metadata_url(ctx) + "\"";
    challenge += ", scope=\"" + join(required_scopes(ctx)) + "\"";
    json body = {{"error", "invalid_token"},
                 {"error_description", had_token ? "The access token is invalid, expired or not for this resource"
                                                 : "A Bearer access token is required"}};
    if (had_token) challenge += ", error=\"invalid_token\", error_description=\"The access token is invalid\"";
    Response res = with_headers(Response::json(body, 401));
    res.header("WWW-Authenticate", challenge);
    return res;
}

// 403 insufficient_scope (RFC 6750 3.1), naming every scope /mcp needs.
Response insufficient_scope(const Context& ctx) {
    std::string scopes = join(required_scopes(ctx));
    Response res = with_headers(Response::json(
        {{"error", "insufficient_scope"}, {"error_description", "The access token needs the scope: " + scopes}}, 403));
    res.header("WWW-Authenticate", "Bearer error=\"insufficient_scope\", scope=\"" + scopes +
                                       "\", resource_metadata=\"" + metadata_url(ctx) + "\"");
    return res;
}

// The token of an Authorization: Bearer header; nullopt without one.
std::optional<std::string> bearer(const Request& req) {
    auto header = req.header("Authorization");
    if (!header || header->size() < 7 || !istarts_with(*header, "Bearer ")) return std::nullopt;
    std::string token = header->substr(7);
    token.erase(0, token.find_first_not_of(' '));
    while (!token.empty() && token.back() == ' ') token.pop_back();
    if (token.empty() || token.size() > 8192) return std::nullopt;
    for (unsigned char c : token)
        if (c <= 0x20 || c >= 0x7f) return std::nullopt;
    return token;
}

struct Caller {
    std::optional<std::string> subject;
    std::string client_id;
    std::vector<std::string> scopes;
    std::string expires_at;
};

json rpc_error(const json& id, int code, const std::string& message) {
    return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

json rpc_result(const json& id, json result) { return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}}; }

json whoami_tool() {
    return {{"name", "whoami"},
            {"title", "Who am I"},
            {"description", "The user (subject), the OAuth client and the scopes of the access token of this call."},
            {"inputSchema", {{"type", "object"}, {"properties", json::object()}, {"additionalProperties", false}}},
            {"outputSchema",
             {{"type", "object"},
              {"properties",
               {{"subject", {{"type", {"string", "null"}}}},
                {"client_id", {{"type", "string"}}},
                {"scopes", {{"type", "array"}, {"items", {{"type", "string"}}}}},
                {"expires_at", {{"type", "string"}}}}},
              {"required", {"subject", "client_id", "scopes"}}}},
            {"annotations", {{"readOnlyHint", true}, {"openWorldHint", false}}}};
}

json call(const Context& ctx, const Caller& who, const std::string& method, const json& params, const json& id) {
    if (method == "initialize") {
        std::string asked = params.is_object() ? params.value("protocolVersion", "") : "";
        bool known = std::find(protocol_versions.begin(), protocol_versions.end(), asked) != protocol_versions.end();
        return rpc_result(id, {{"protocolVersion", known ? asked : protocol_versions.front()},
                               {"capabilities", {{"tools", {{"listChanged", false}}}}},
                               {"serverInfo", {{"name", "pgauth"}, {"title", "pgauth reference MCP server"},
                                               {"version", pgauth_http_version}}},
                               {"instructions", "Call the whoami tool to see who this access token speaks for."}});
    }
    if (method == "ping") return rpc_result(id, json::object());
    if (method == "tools/list") return rpc_result(id, {{"tools", json::array({whoami_tool()})}});
    if (method == "tools/call") {
        if (!params.is_object() || !params.contains("name") || !params["name"].is_string())
            return rpc_error(id, -32602, "tools/call needs params.name");
        if (params["name"] != "whoami") return rpc_error(id, -32602, "Unknown tool: " + params["name"].get<std::string>());
        json info = {{"subject", who.subject ? json(*who.subject) : json(nullptr)},
                     {"client_id", who.client_id},
                     {"scopes", who.scopes},
                     {"expires_at", who.expires_at}};
        return rpc_result(id, {{"content", json::array({{{"type", "text"}, {"text", info.dump()}}})},
                               {"structuredContent", info},
                               {"isError", false}});
    }
    return rpc_error(id, -32601, "Method not found: " + method);
}

// POST /mcp
Response mcp(Context& ctx, const Request& req) {
    // DNS rebinding: a browser page may only reach /mcp from a trusted origin.
    if (auto origin = req.header("Origin"); origin && !ctx.origins().trusted_origin(*origin))
        return with_headers(Response::json({{"error", "invalid_request"}, {"error_description", "Origin not allowed"}}, 403));
    auto token = bearer(req);
    if (!token) return unauthorized(ctx, req.header("Authorization").has_value());
    auto r = ctx.exec("mcp_verify_access_token", *token, resource(ctx));
    if (r.empty()) return unauthorized(ctx, true);
    Caller who;
    const auto row = r[0];
    if (!row["subject"].is_null()) who.subject = row["subject"].c_str();
    who.client_id = row["client_id"].is_null() ? "" : row["client_id"].c_str();
    who.expires_at = row["expires_at"].is_null() ? "" : row["expires_at"].c_str();
    if (!row["scopes"].is_null()) who.scopes = json::parse(row["scopes"].c_str()).get<std::vector<std::string>>();
    for (const auto& needed : required_scopes(ctx))
        if (std::find(who.scopes.begin(), who.scopes.end(), needed) == who.scopes.end()) return insufficient_scope(ctx);

    if (auto version = req.header("MCP-Protocol-Version");
        version && std::find(protocol_versions.begin(), protocol_versions.end(), *version) == protocol_versions.end())
        return with_headers(Response::json(rpc_error(nullptr, -32600, "Unsupported MCP-Protocol-Version: " + version->substr(0, 32)), 400));

    json message = json::parse(req.body(), nullptr, false);
    if (message.is_discarded()) return with_headers(Response::json(rpc_error(nullptr, -32700, "Parse error"), 400));
    if (!message.is_object() || message.value("jsonrpc", "") != "2.0")
        return with_headers(Response::json(rpc_error(nullptr, -32600, "Invalid Request: one JSON-RPC 2.0 message"), 400));
    auto method = message.find("method");
    if (method == message.end()) {  // a response to a request of ours (we send none): accepted
        Response res = with_headers(Response{202, "", {}});
        return res;
    }
    if (!method->is_string())
        return with_headers(Response::json(rpc_error(message.value("id", json(nullptr)), -32600, "Invalid Request"), 400));
    auto id = message.find("id");
    if (id == message.end()) return with_headers(Response{202, "", {}});  // a notification
    if (!id->is_string() && !id->is_number_integer())
        return with_headers(Response::json(rpc_error(nullptr, -32600, "Invalid Request: id must be a string or an integer"), 400));
    json params = message.value("params", json::object());
    return with_headers(Response::json(call(ctx, who, method->get<std::string>(), params, *id)));
}

// RFC 9728 protected-resource metadata.
Response metadata(Context& ctx, const Request&) {
    json doc = {{"resource", resource(ctx)},
                {"authorization_servers", json::array({ctx.config().base_url + "/api/auth"})},
                {"scopes_supported", required_scopes(ctx)},
                {"bearer_methods_supported", json::array({"header"})},
                {"resource_name", "pgauth reference MCP server"}};
    Response res = Response::json(doc);
    res.header("Access-Control-Allow-Origin", "*");
    res.header("Cache-Control", "public, max-age=300");
    return res;
}

}  // namespace

void register_mcp_routes(Server& server) {
    server.oauth_route(Method::Post, mcp_path, "mcp", mcp);
    server.route(Method::Get, metadata_path + mcp_path, "oauth-protected-resource", metadata, RouteKind::no_database);
    server.route(Method::Get, metadata_path, "oauth-protected-resource", metadata, RouteKind::no_database);
}

}  // namespace pgauth::http
