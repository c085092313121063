// The analysis graph: one node per selected analyzer, edges from its declared inputs (the
// analyzers whose results it reads). Construction checks for missing inputs and cycles; the
// runner executes nodes on a small thread pool as soon as their inputs are done, skips a node
// whose input failed (with the reason), and stops starting nodes once cancellation is requested.
#pragma once

#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "harmony/error.hpp"

namespace harmony::pipeline {

struct GraphNode {
    std::string id;
    std::vector<std::string> inputs;  // ids of the nodes this one reads
};

/// Orders nodes so that every input comes before its consumers (stable: among ready nodes, the
/// given order). Errors: kInvalidArgument for an input that no node provides, kInternal for a
/// cycle (both name the nodes involved).
Result<std::vector<std::size_t>> topological_order(const std::vector<GraphNode>& nodes);

enum class NodeState { kDone, kFailed, kSkipped, kCancelled };

struct NodeOutcome {
    NodeState state = NodeState::kCancelled;
    Error error{ErrorCode::kInternal, {}};  // why it failed or was skipped
};

/// Runs `run(i)` for every node on up to `threads` threads (the caller's thread is one of them),
/// each after all its inputs finished with kDone. `run` must not throw (the engine wraps each
/// analyzer in an exception barrier). A node whose input failed, was skipped or cancelled is
/// skipped with an error naming that input. Nodes not started when `stop` is requested end
/// kCancelled. `nodes` must have passed topological_order.
std::vector<NodeOutcome> run_graph(const std::vector<GraphNode>& nodes, int threads, std::stop_token stop,
                                   const std::function<Result<void>(std::size_t)>& run);

}  // namespace harmony::pipeline
