// Harmony service — the request target of an HTTP request, split and percent-decoded. Pure
// functions (no sockets), used by the socket layer and fuzzed on their own (tests/fuzz).
#pragma once

#include <string>
#include <string_view>

#include "server/http/router.hpp"

namespace harmony::server::http {

/// %XX sequences decoded (a malformed one is kept as it is); '+' is a space when `plus_is_space`.
/// The result may be any bytes: callers check UTF-8 before using it as text.
std::string pct_decode(std::string_view s, bool plus_is_space);

/// "/a%20b?x=1&y" -> req.path "/a b", req.query {x: "1", y: ""} (query keys and values decoded
/// with '+' as a space; empty items skipped).
void split_target(std::string_view target, HttpRequest& req);

}  // namespace harmony::server::http
