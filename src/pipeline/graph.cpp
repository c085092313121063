#include "pipeline/graph.hpp"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace harmony::pipeline {

Result<std::vector<std::size_t>> topological_order(const std::vector<GraphNode>& nodes) {
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < nodes.size(); ++i)
        if (!index.emplace(nodes[i].id, i).second)
            return make_error(ErrorCode::kInternal, "analysis graph: two nodes named '" + nodes[i].id + "'");
    for (const auto& n : nodes)
        for (const auto& in : n.inputs)
            if (!index.count(in))
                return make_error(ErrorCode::kInvalidArgument,
                                  "analysis graph: '" + n.id + "' needs '" + in + "', which no analyzer provides");
    // Kahn's algorithm, always taking the first ready node in the given order.
    std::vector<int> missing(nodes.size(), 0);
    for (std::size_t i = 0; i < nodes.size(); ++i) missing[i] = static_cast<int>(nodes[i].inputs.size());
    std::vector<bool> placed(nodes.size(), false);
    std::vector<std::size_t> order;
    while (order.size() < nodes.size()) {
        std::size_t pick = nodes.size();
        for (std::size_t i = 0; i < nodes.size() && pick == nodes.size(); ++i)
            if (!placed[i] && missing[i] == 0) pick = i;
        if (pick == nodes.size()) {
            std::string cycle;
            for (std::size_t i = 0; i < nodes.size(); ++i)
                if (!placed[i]) cycle += (cycle.empty() ? "" : ", ") + nodes[i].id;
            return make_error(ErrorCode::kInternal, "analysis graph: dependency cycle among " + cycle);
        }
        placed[pick] = true;
        order.push_back(pick);
        for (std::size_t i = 0; i < nodes.size(); ++i)
            for (const auto& in : nodes[i].inputs)
                if (in == nodes[pick].id) --missing[i];
    }
    return order;
}

std::vector<NodeOutcome> run_graph(const std::vector<GraphNode>& nodes, int threads, std::stop_token stop,
                                   const std::function<Result<void>(std::size_t)>& run) {
    const std::size_t n = nodes.size();
    std::vector<NodeOutcome> out(n);
    std::vector<std::vector<std::size_t>> inputs(n);
    {
        std::map<std::string, std::size_t> index;
        for (std::size_t i = 0; i < n; ++i) index[nodes[i].id] = i;
        for (std::size_t i = 0; i < n; ++i)
            for (const auto& in : nodes[i].inputs)
                if (auto it = index.find(in); it != index.end()) inputs[i].push_back(it->second);
    }
    enum class S { kWaiting, kRunning, kEnded };
    std::vector<S> state(n, S::kWaiting);
    std::size_t ended = 0;
    std::mutex mu;
    std::condition_variable cv;

    // Under the lock: settle nodes that can be decided without running (an input did not finish
    // with kDone, or cancellation), and return the first runnable node, or n.
    auto next_locked = [&]() -> std::size_t {
        bool changed = true;
        while (changed) {
            changed = false;
            for (std::size_t i = 0; i < n; ++i) {
                if (state[i] != S::kWaiting) continue;
                for (auto j : inputs[i]) {
                    if (state[j] != S::kEnded) continue;
                    if (out[j].state != NodeState::kDone && state[i] == S::kWaiting) {
                        out[i].state =
                            out[j].state == NodeState::kCancelled ? NodeState::kCancelled : NodeState::kSkipped;
                        out[i].error =
                            out[j].state == NodeState::kCancelled
                                ? make_error(ErrorCode::kCancelled, "cancelled")
                                : make_error(out[j].error.code,
                                             "skipped: its input '" + nodes[j].id + "' " +
                                                 (out[j].state == NodeState::kFailed ? "failed" : "was skipped"));
                        state[i] = S::kEnded;
                        ++ended;
                        changed = true;
                    }
                }
                if (state[i] == S::kWaiting && stop.stop_requested()) {
                    out[i].state = NodeState::kCancelled;
                    out[i].error = make_error(ErrorCode::kCancelled, "cancelled");
                    state[i] = S::kEnded;
                    ++ended;
                    changed = true;
                }
            }
        }
        for (std::size_t i = 0; i < n; ++i) {
            if (state[i] != S::kWaiting) continue;
            bool ready = true;
            for (auto j : inputs[i]) ready = ready && state[j] == S::kEnded;
            if (ready) return i;
        }
        return n;
    };

    auto worker = [&] {
        std::unique_lock lock(mu);
        for (;;) {
            const std::size_t i = next_locked();
            if (i == n) {
                if (ended == n) {
                    cv.notify_all();
                    return;
                }
                cv.wait(lock);
                continue;
            }
            state[i] = S::kRunning;
            lock.unlock();
            Result<void> r = run(i);
            lock.lock();
            if (r) {
                out[i].state = NodeState::kDone;
            } else {
                out[i].state = r.error().code == ErrorCode::kCancelled ? NodeState::kCancelled : NodeState::kFailed;
                out[i].error = r.error();
            }
            state[i] = S::kEnded;
            ++ended;
            cv.notify_all();
        }
    };
    const int extra = std::max(0, std::min(threads, static_cast<int>(n)) - 1);
    std::vector<std::jthread> pool;
    pool.reserve(static_cast<std::size_t>(extra));
    for (int t = 0; t < extra; ++t) pool.emplace_back(worker);
    worker();
    pool.clear();  // joins
    return out;
}

}  // namespace harmony::pipeline
