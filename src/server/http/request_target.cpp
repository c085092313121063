#include "server/http/request_target.hpp"

namespace harmony::server::http {

namespace {

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::string pct_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else if (plus_is_space && s[i] == '+') {
            out += ' ';
        } else {
            out += s[i];
        }
    }
    return out;
}

void split_target(std::string_view target, HttpRequest& req) {
    const auto q = target.find('?');
    req.path = pct_decode(target.substr(0, q), false);
    if (q == std::string_view::npos) return;
    std::string_view qs = target.substr(q + 1);
    while (!qs.empty()) {
        const auto amp = qs.find('&');
        const auto item = qs.substr(0, amp);
        if (!item.empty()) {
            const auto eq = item.find('=');
            req.query.emplace(pct_decode(item.substr(0, eq), true),
                              eq == std::string_view::npos ? std::string() : pct_decode(item.substr(eq + 1), true));
        }
        qs = amp == std::string_view::npos ? std::string_view() : qs.substr(amp + 1);
    }
}

}  // namespace harmony::server::http
