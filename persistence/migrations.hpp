// Versioned, forward-only schema migrations. The files migrations/NNNN_name.sql
// are embedded into the binary at build time (so it runs from any folder) and
// applied at startup in order, each in its own transaction, and recorded in
// `schema_migrations` (version, name, sha256, applied_at).
#pragma once

#include <sqlite3.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace obs::persistence {

struct migration {
    int version = 0;   // NNNN of the file name
    std::string name;  // the file name, e.g. "0001_initial.sql"
    std::string sql;   // the file's text
};

// The migrations embedded at build time, sorted by version.
const std::vector<migration>& embedded_migrations();

// Why the database cannot be used: the message names the file and the reason
// ("0001_initial.sql was changed after it was applied (sha256 ... != ...)",
// "database has schema version 7, newer than this binary knows (3)",
// "0002_x.sql failed: near \"FOO\": syntax error").
class migration_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct migration_report {
    int schema_version = 0;  // highest applied version after the run
    int applied_now = 0;     // how many were applied by this call
};

// Brings `db` up to the last of `known` (sorted by version). Each pending
// migration runs in its own transaction with its schema_migrations row; a
// failing one leaves nothing of itself applied. Throws migration_error when a
// recorded migration's sha256 differs from its file, when the database holds
// a version not in `known`, or when a migration fails.
migration_report apply_migrations(sqlite3* db, const std::vector<migration>& known);

// The highest version recorded in schema_migrations (0 when none/no table).
int current_schema_version(sqlite3* db);

}  // namespace obs::persistence
