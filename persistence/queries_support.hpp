// What queries.cpp (the runs) and queries_events.cpp (the event log) share:
// the read transaction every query runs in, and binding a text parameter.
// Internal to persistence/.
#pragma once

#include "persistence/sqlite_handle.hpp"

#include <sqlite3.h>

#include <string_view>

namespace obs::persistence::queries_support {

inline constexpr const char* sql_begin = "BEGIN";
inline constexpr const char* sql_commit = "COMMIT";

// Holds a read transaction for the scope unless the caller already has one.
class read_transaction {
public:
    explicit read_transaction(sqlite3* db) : db_(db), owned_(sqlite3_get_autocommit(db) != 0) {
        if (owned_) exec(db_, sql_begin);
    }
    ~read_transaction() {
        if (owned_) sqlite3_exec(db_, sql_commit, nullptr, nullptr, nullptr);
    }
    read_transaction(const read_transaction&) = delete;
    read_transaction& operator=(const read_transaction&) = delete;

private:
    sqlite3* db_;
    bool owned_;  // began here, so ends here
};

// Binds a copy of `v` (SQLITE_TRANSIENT).
inline void bind_text(sqlite3_stmt* s, int i, std::string_view v) {
    sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

}  // namespace obs::persistence::queries_support
