#include "server/http/app_assets.hpp"

namespace harmony::server::http {

namespace {

std::string content_type_for(std::string_view path) {
    const auto dot = path.rfind('.');
    const std::string_view ext = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    if (ext == "html") return "text/html; charset=utf-8";
    if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
    if (ext == "css") return "text/css; charset=utf-8";
    if (ext == "svg") return "image/svg+xml";
    if (ext == "json" || ext == "map") return "application/json";
    if (ext == "png") return "image/png";
    if (ext == "ico") return "image/x-icon";
    if (ext == "woff2") return "font/woff2";
    if (ext == "txt") return "text/plain; charset=utf-8";
    return "application/octet-stream";
}

constexpr std::string_view kNotBuilt =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Harmony</title></head>"
    "<body><h1>Harmony</h1><p>This binary was built without the web app (node and npm were not found at "
    "build time). Run <code>scripts/setup.sh</code> (it installs them and the app's packages), then "
    "rebuild. The API is served as usual: <a href=\"/openapi.json\">/openapi.json</a>.</p></body></html>";

}  // namespace

std::optional<AppAsset> find_app_asset(std::string_view path) {
    const auto files = embedded_app_files();
    if (path == "/") path = "/index.html";
    if (files.empty()) {
        if (path != "/index.html") return std::nullopt;
        return AppAsset{kNotBuilt, "text/html; charset=utf-8", "no-cache", true};
    }
    for (const auto& f : files) {
        if (f.path != path) continue;
        AppAsset a;
        a.data = f.data;
        a.content_type = content_type_for(path);
        a.html = path.ends_with(".html");
        // Vite names the bundle's files by content hash: they never change under one name.
        a.cache_control = path.starts_with("/assets/") ? "public, max-age=31536000, immutable" : "no-cache";
        return a;
    }
    return std::nullopt;
}

std::string_view app_content_security_policy() {
    return "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
           "media-src 'self' blob:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
           "base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
}

}  // namespace harmony::server::http
