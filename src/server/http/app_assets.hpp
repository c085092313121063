// Harmony service — the web app (app/, built by Vite) embedded in the binary at build time
// (cmake/embed_app.cmake), served from the same origin as the API: `/` is the app's index.html,
// `/assets/*` its hashed scripts and styles. No file is read from disk at run time.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace harmony::server::http {

struct EmbeddedFile {
    std::string_view path;  // URL path, e.g. "/index.html", "/assets/index-3f2a.js"
    std::string_view data;
};

/// The files compiled in (empty when the app was not built: node/npm absent at build time).
std::span<const EmbeddedFile> embedded_app_files();

struct AppAsset {
    std::string_view data;
    std::string content_type;
    std::string cache_control;  // hashed assets: immutable; index.html: no-cache
    bool html = false;
};

/// The asset served for a GET of `path` ("/" and "/index.html" -> the app's page), or nullopt.
/// When the app was not built, "/" is a short page that says how to build it.
std::optional<AppAsset> find_app_asset(std::string_view path);

/// Content-Security-Policy of the app's page: only its own origin (scripts, styles, fetch and
/// WebSocket), audio and images from blob: URLs the page makes from the user's files.
std::string_view app_content_security_policy();

}  // namespace harmony::server::http
