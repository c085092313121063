// The job-listing contract every JobStore keeps (SQLite and PostgreSQL run the same checks).
#pragma once

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "server/job_store.hpp"

namespace harmony::test {

/// Inserts 7 jobs (3 in a batch, 2 cancelled, created 1 ms apart) and checks filters and
/// pagination: every page newest first, the pages together exactly the matching jobs, and a page
/// walk unaffected by jobs inserted while it runs.
inline void check_store_listing(server::JobStore& store) {
    using server::JobQuery;
    using server::JobRecord;
    using server::JobState;
    const std::int64_t t0 = 1'700'000'000'000;
    std::vector<std::string> ids;
    ASSERT_TRUE(store.insert_batch("batch-a", t0).ok());
    for (int i = 0; i < 7; ++i) {
        JobRecord j;
        j.id = "list-job-" + std::to_string(i);
        j.batch_id = i < 3 ? "batch-a" : "";
        j.request_json = "{}";
        j.source_name = "t" + std::to_string(i) + ".wav";
        j.content_hash = "xxh128:" + std::to_string(i);
        j.result_key = j.content_hash;
        j.created_ms = t0 + i;
        j.audio_owned = false;
        ASSERT_TRUE(store.insert_job(j, "").ok()) << i;
        ids.push_back(j.id);
    }
    ASSERT_TRUE(store.cancel("list-job-1").ok());
    ASSERT_TRUE(store.cancel("list-job-5").ok());

    auto all = [&](JobQuery q) {
        std::vector<std::string> out;
        for (int pages = 0; pages < 20; ++pages) {
            auto page = store.list_jobs(q);
            EXPECT_TRUE(page.ok());
            if (!page) return out;
            EXPECT_LE(static_cast<int>(page->jobs.size()), q.limit);
            for (const auto& j : page->jobs) out.push_back(j.id);
            if (page->next_seq == 0) return out;
            EXPECT_EQ(static_cast<int>(page->jobs.size()), q.limit) << "a short page with a next cursor";
            q.before_seq = page->next_seq;
        }
        ADD_FAILURE() << "pagination did not end";
        return out;
    };
    const std::vector<std::string> newest_first(ids.rbegin(), ids.rend());
    for (int limit : {1, 2, 3, 7, 50}) {
        JobQuery q;
        q.limit = limit;
        EXPECT_EQ(all(q), newest_first) << "limit " << limit;
    }
    JobQuery canceled;
    canceled.states = {JobState::kCanceled};
    canceled.limit = 1;
    EXPECT_EQ(all(canceled), (std::vector<std::string>{"list-job-5", "list-job-1"}));
    JobQuery in_batch;
    in_batch.batch_id = "batch-a";
    in_batch.states = {JobState::kQueued, JobState::kCanceled};
    in_batch.limit = 2;
    EXPECT_EQ(all(in_batch), (std::vector<std::string>{"list-job-2", "list-job-1", "list-job-0"}));
    JobQuery queued_in_batch = in_batch;
    queued_in_batch.states = {JobState::kQueued};
    EXPECT_EQ(all(queued_in_batch), (std::vector<std::string>{"list-job-2", "list-job-0"}));
    JobQuery window;
    window.created_from_ms = t0 + 2;
    window.created_to_ms = t0 + 5;  // exclusive
    EXPECT_EQ(all(window), (std::vector<std::string>{"list-job-4", "list-job-3", "list-job-2"}));
    JobQuery none;
    none.batch_id = "no-such-batch";
    auto empty = store.list_jobs(none);
    ASSERT_TRUE(empty.ok());
    EXPECT_TRUE(empty->jobs.empty());
    EXPECT_EQ(empty->next_seq, 0);

    // A walk in progress is not disturbed by new jobs: they are newer than its cursor.
    JobQuery walk;
    walk.limit = 3;
    auto first = store.list_jobs(walk);
    ASSERT_TRUE(first.ok());
    ASSERT_EQ(first->jobs.size(), 3u);
    JobRecord late;
    late.id = "list-job-late";
    late.request_json = "{}";
    late.source_name = "late.wav";
    late.content_hash = late.result_key = "xxh128:late";
    late.created_ms = t0 + 100;
    late.audio_owned = false;
    ASSERT_TRUE(store.insert_job(late, "").ok());
    walk.before_seq = first->next_seq;
    std::vector<std::string> seen;
    for (const auto& j : first->jobs) seen.push_back(j.id);
    for (const auto& id : all(walk)) seen.push_back(id);
    EXPECT_EQ(seen, newest_first);
}

}  // namespace harmony::test
