#include "export/sqlite_file.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

namespace harmony::exporters {

Result<std::string> sqlite_file_bytes(const std::string& what, const std::function<Result<void>(Db&)>& fill) {
    // SQLite writes files: build the database in a temporary file and return its bytes.
    std::string tmpl = (std::filesystem::temp_directory_path() / "harmony-db-XXXXXX").string();
    const int fd = mkstemp(tmpl.data());
    if (fd < 0) return make_error(ErrorCode::kIoError, "cannot create a temporary file for the " + what + " database");
    close(fd);
    struct Remove {
        std::string path;
        ~Remove() { std::filesystem::remove(path); }
    } remove{tmpl};
    {
        Db d;
        if (sqlite3_open_v2(tmpl.c_str(), &d.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK)
            return make_error(ErrorCode::kIoError, "cannot open the " + what + " database being written");
        if (auto r = fill(d); !r) return r.error();
    }
    std::ifstream in(tmpl, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    if (!in.good() && !in.eof()) return make_error(ErrorCode::kIoError, "cannot read back the " + what + " database");
    return bytes.str();
}

}  // namespace harmony::exporters
