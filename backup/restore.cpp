// The restore subcommand (see restore.hpp).
#include "backup/restore.hpp"

#include "backup/archive_producer.hpp"
#include "backup/file_io.hpp"
#include "backup/gzip_stream.hpp"
#include "backup/restore_extractor.hpp"
#include "backup/s3_client.hpp"
#include "persistence/database_lock.hpp"
#include "persistence/sqlite_handle.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <exception>
#include <filesystem>
#include <functional>
#include <iostream>
#include <system_error>

namespace obs::backup {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

constexpr const char* totals_sql = R"(SELECT count(*), coalesce(max("offset"), 0) FROM events)";

// Streams the local tarball at `path` into `extractor`.
std::uint64_t read_local(const std::string& path, restore_extractor& extractor) {
    unique_fd fd = open_for_reading(path);
    std::string chunk(256 * 1024, '\0');
    std::uint64_t total = 0;
    for (;;) {
        const std::size_t got = read_some(fd.get(), chunk.data(), chunk.size(), path);
        if (got == 0) return total;
        extractor.feed(chunk.data(), got);
        total += got;
    }
}

// Downloads `url` into `extractor` on a private io_context.
std::uint64_t read_s3(const s3_location& where, s3_config config, restore_extractor& extractor) {
    config.bucket = where.bucket;
    asio::io_context io;
    curl_multi http(io.get_executor());
    s3_client s3(http, std::move(config));
    std::optional<s3_result<std::uint64_t>> result;
    std::exception_ptr failure;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            // Named, not written inside the co_await: GCC 12 relocates such a
            // temporary (here the std::function built from a lambda) bitwise
            // across the suspension.
            std::function<void(const char*, std::size_t)> sink = [&](const char* data, std::size_t n) {
                extractor.feed(data, n);
            };
            result = co_await s3.get_object(where.key, std::move(sink));
        },
        [&](std::exception_ptr e) { failure = e; });
    io.run();
    if (failure) std::rethrow_exception(failure);
    if (!result) throw std::runtime_error("download did not finish");
    if (!*result) throw std::runtime_error("download failed: " + result->error().describe());
    return **result;
}

// Opens the extracted database read-only, checks it and reads its totals.
void check_database(const std::string& path, restore_result& out) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
    persistence::db_ptr db(raw);
    if (rc != SQLITE_OK) throw std::runtime_error("the restored database does not open: " + std::string(sqlite3_errstr(rc)));
    {
        persistence::stmt_ptr check = persistence::prepare(db.get(), "PRAGMA integrity_check");
        std::string verdict;
        while (sqlite3_step(check.get()) == SQLITE_ROW) {
            if (!verdict.empty()) verdict += "; ";
            verdict += reinterpret_cast<const char*>(sqlite3_column_text(check.get(), 0));
        }
        if (verdict != "ok") throw std::runtime_error("integrity_check failed: " + verdict);
    }
    persistence::stmt_ptr totals = persistence::prepare(db.get(), totals_sql);
    persistence::check(db.get(), sqlite3_step(totals.get()), "restored totals");
    out.events = sqlite3_column_int64(totals.get(), 0);
    out.last_offset = sqlite3_column_int64(totals.get(), 1);
}

// Moves the checked database into place: link() refuses an existing file
// atomically; --force renames over it. A stale -wal/-shm of the old
// database would be replayed into the new one, so they go first.
void move_database(const std::string& tmp, const std::string& db_path, bool force) {
    std::error_code ignored;
    if (!force && fs::exists(db_path)) throw std::runtime_error(db_path + " exists (use --force to replace it)");
    fs::remove(db_path + "-wal", ignored);
    fs::remove(db_path + "-shm", ignored);
    fs::remove(db_path + "-journal", ignored);
    if (force) {
        fs::rename(tmp, db_path);
    } else {
        if (::link(tmp.c_str(), db_path.c_str()) != 0) {
            if (errno == EEXIST) throw std::runtime_error(db_path + " exists (use --force to replace it)");
            throw std::system_error(errno, std::generic_category(), "cannot create " + db_path);
        }
        fs::remove(tmp);
    }
    sync_parent_dir(db_path);
}

std::string unique_suffix() {
    return std::to_string(::getpid()) + "-" +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

}  // namespace

restore_result restore_backup(const restore_options& options) {
    restore_result out;
    try {
        if (options.db_path.empty()) throw std::runtime_error("no --db PATH given");
        if (!options.force && fs::exists(options.db_path)) {
            throw std::runtime_error(options.db_path + " exists (use --force to replace it)");
        }
        fs::path db_dir = fs::path(options.db_path).parent_path();
        if (db_dir.empty()) db_dir = ".";
        // The server's own default (config's effective_data_dir), so a default
        // restore puts the artifacts where a default server looks for them.
        const fs::path data_dir =
            options.data_dir.empty() ? db_dir / "observability-data" : fs::path(options.data_dir);
        fs::create_directories(db_dir);
        // Held until the database is in place: a running server holds it
        // (its -wal and -shm must not be swapped under it), and so would a
        // second restore or a server starting meanwhile.
        persistence::lock_attempt locked = persistence::try_lock_database(options.db_path);
        if (!locked.lock) {
            throw std::runtime_error(locked.busy ? locked.message + "; stop the server first, nothing was changed"
                                                 : locked.message);
        }
        fs::create_directories(data_dir);

        const std::string suffix = unique_suffix();
        remove_guard db_tmp((db_dir / (".restore-" + suffix + ".db")).string());
        remove_guard artifacts_tmp((data_dir / (".restore-" + suffix)).string());
        restore_extractor extractor(db_tmp.path(), artifacts_tmp.path());

        if (const auto where = parse_s3_url(options.source)) {
            if (!options.s3) throw std::runtime_error("S3 is not configured: set AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY");
            out.archive_bytes = read_s3(*where, *options.s3, extractor);
        } else {
            out.archive_bytes = read_local(options.source, extractor);
        }
        const restored_manifest manifest = extractor.finish();
        out.schema_version = manifest.schema_version;
        check_database(db_tmp.path(), out);

        for (const auto& rel : extractor.artifact_files()) {
            const fs::path to = data_dir / rel;
            fs::create_directories(to.parent_path());
            fs::rename(fs::path(artifacts_tmp.path()) / rel, to);
        }
        out.artifacts = extractor.artifact_files().size();
        move_database(db_tmp.path(), options.db_path, options.force);
        db_tmp.release();
        out.ok = true;
        out.message = "restored " + std::to_string(out.events) + " events (last offset " +
                      std::to_string(out.last_offset) + ", " + std::to_string(out.artifacts) + " artifacts) from " +
                      options.source + " into " + options.db_path;
    } catch (const std::exception& e) {
        out.ok = false;
        out.message = std::string("restore failed: ") + e.what();
    }
    return out;
}

int run_restore(const std::vector<std::string>& args) {
    restore_options options;
    const char* usage = "usage: observability-server restore SOURCE --db PATH [--data-dir DIR] [--force]";
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--force") {
            options.force = true;
        } else if ((a == "--db" || a == "--data-dir") && i + 1 < args.size()) {
            (a == "--db" ? options.db_path : options.data_dir) = args[++i];
        } else if (a.rfind("--db=", 0) == 0) {
            options.db_path = a.substr(5);
        } else if (a.rfind("--data-dir=", 0) == 0) {
            options.data_dir = a.substr(11);
        } else if (!a.empty() && a[0] != '-' && options.source.empty()) {
            options.source = a;
        } else {
            std::cerr << usage << "\n";
            return 2;
        }
    }
    if (options.source.empty() || options.db_path.empty()) {
        std::cerr << usage << "\n";
        return 2;
    }
    options.s3 = s3_config_from_env(false);
    const restore_result r = restore_backup(options);
    (r.ok ? std::cout : std::cerr) << r.message << "\n";
    return r.ok ? 0 : 1;
}

}  // namespace obs::backup
