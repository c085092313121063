#pragma once

#include <string_view>

namespace harmony::analyzers {

/// Whether an analyzer runs when a request names none (`harmony analyze F` with no --only). An
/// analyzer whose memory still grows with the length of the file (it keeps whole-file features
/// and cannot run on segments) is opt-in until it is bounded: it runs when asked for by name.
bool in_default_set(std::string_view id);

}  // namespace harmony::analyzers
