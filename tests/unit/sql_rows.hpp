// Reading a database back in the export tests: every row of a query, each column as its text or
// blob bytes (what the sqlite3 shell prints), through SQLite's C API.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

namespace harmony::test {

struct Sql {
    sqlite3* db = nullptr;
    explicit Sql(const std::string& path) { sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr); }
    Sql(const Sql&) = delete;
    Sql& operator=(const Sql&) = delete;
    ~Sql() { sqlite3_close(db); }
    std::vector<std::vector<std::string>> rows(const std::string& q) const {
        std::vector<std::vector<std::string>> out;
        sqlite3_stmt* st = nullptr;
        EXPECT_EQ(sqlite3_prepare_v2(db, q.c_str(), -1, &st, nullptr), SQLITE_OK) << q << ": " << sqlite3_errmsg(db);
        while (st && sqlite3_step(st) == SQLITE_ROW) {
            std::vector<std::string> r;
            for (int c = 0; c < sqlite3_column_count(st); ++c) {
                const auto* b = static_cast<const char*>(sqlite3_column_blob(st, c));
                r.emplace_back(b ? std::string(b, static_cast<size_t>(sqlite3_column_bytes(st, c))) : std::string());
            }
            out.push_back(r);
        }
        sqlite3_finalize(st);
        return out;
    }
};

}  // namespace harmony::test
