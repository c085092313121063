// SQLite helpers shared by the library-database exports (Mixxx, Engine DJ): a database built in a
// temporary file whose bytes are returned, one-statement execution and positional binding.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <string>

#include "harmony/error.hpp"

namespace harmony::exporters {

struct Db {
    sqlite3* db = nullptr;
    std::string error;
    Db() = default;
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;
    ~Db() {
        if (db) sqlite3_close(db);
    }
    bool exec(const char* sql) {
        char* msg = nullptr;
        if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) == SQLITE_OK) return true;
        error = msg ? msg : "sqlite error";
        sqlite3_free(msg);
        return false;
    }
};

// One prepared statement, bound by position: text, integer, real, blob (an empty blob binds NULL).
struct Stmt {
    sqlite3_stmt* st = nullptr;
    int i = 0;
    Stmt(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &st, nullptr); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    ~Stmt() { sqlite3_finalize(st); }
    Stmt& text(const std::string& s) {
        sqlite3_bind_text(st, ++i, s.c_str(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Stmt& integer(std::int64_t v) {
        sqlite3_bind_int64(st, ++i, v);
        return *this;
    }
    Stmt& real(double v) {
        sqlite3_bind_double(st, ++i, v);
        return *this;
    }
    Stmt& blob(const std::string& b) {
        if (b.empty())
            sqlite3_bind_null(st, ++i);
        else
            sqlite3_bind_blob(st, ++i, b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT);
        return *this;
    }
    bool run() {
        const bool ok = st && sqlite3_step(st) == SQLITE_DONE;
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        i = 0;
        return ok;
    }
};

/// Creates a database in a temporary file, lets `fill` write it (an error ends the export), and
/// returns the file's bytes; the temporary file is removed either way. `what` names the target
/// in error messages ("Mixxx").
Result<std::string> sqlite_file_bytes(const std::string& what, const std::function<Result<void>(Db&)>& fill);

}  // namespace harmony::exporters
