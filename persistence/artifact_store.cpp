// Content-addressed artifact files and the `artifacts` rows (see
// artifact_store.hpp). The crash-safety argument: content reaches its real
// name only by rename(2) of a complete, fsynced temporary file in the same
// file system, and the folder is fsynced after, so a name either does not
// exist or holds all of its content. Temporary files left by a crash live in
// their own folder and are swept at start-up.
#include "persistence/artifact_store.hpp"

#include "domain/event.hpp"
#include "domain/time.hpp"
#include "persistence/sqlite_handle.hpp"

#include <cerrno>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

namespace obs::persistence {

namespace {

constexpr const char* sql_upsert =
    "INSERT INTO artifacts(run_id, name, id, step_id, content_type, size, sha256, created_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
    "ON CONFLICT(run_id, name) DO UPDATE SET id = excluded.id, step_id = excluded.step_id, "
    "content_type = excluded.content_type, size = excluded.size, sha256 = excluded.sha256, "
    "created_ms = excluded.created_ms";
constexpr const char* sql_find =
    "SELECT id, run_id, step_id, name, content_type, size, sha256, created_ms FROM artifacts "
    "WHERE run_id = ?1 AND name = ?2";
constexpr const char* sql_list =
    "SELECT id, run_id, step_id, name, content_type, size, sha256, created_ms FROM artifacts "
    "WHERE run_id = ?1 ORDER BY name";
constexpr const char* sql_run_exists = "SELECT 1 FROM runs WHERE id = ?1";
constexpr const char* sql_table_exists = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'artifacts'";
constexpr const char* sql_distinct_sha = "SELECT DISTINCT sha256 FROM artifacts ORDER BY sha256";

constexpr const char* temp_prefix = "upload-";

[[noreturn]] void throw_errno(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

// fsync of a folder, so a rename or a new entry in it is durable.
void sync_directory(const std::string& dir) {
    unique_fd fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (fd.get() < 0) throw_errno("artifact folder open");
    if (::fsync(fd.get()) != 0) throw_errno("artifact folder fsync");
}

void bind_text(sqlite3_stmt* stmt, int index, const std::string& text) {
    sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

artifact_row read_row(sqlite3_stmt* stmt) {
    artifact_row row;
    row.id = column_text_view(stmt, 0);
    row.run_id = column_text_view(stmt, 1);
    row.step_id = column_optional_text(stmt, 2);
    row.name = column_text_view(stmt, 3);
    row.content_type = column_text_view(stmt, 4);
    row.size = static_cast<std::uint64_t>(sqlite3_column_int64(stmt, 5));
    row.sha256 = column_text_view(stmt, 6);
    row.created_ms = sqlite3_column_int64(stmt, 7);
    return row;
}

bool run_exists(sqlite3* db, const std::string& run_id) {
    stmt_ptr stmt = prepare(db, sql_run_exists);
    bind_text(stmt.get(), 1, run_id);
    const int rc = sqlite3_step(stmt.get());
    check(db, rc, sql_run_exists);
    return rc == SQLITE_ROW;
}

}  // namespace

unique_fd& unique_fd::operator=(unique_fd&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

unique_fd::~unique_fd() {
    if (fd_ >= 0) ::close(fd_);
}

bool is_sha256_hex(std::string_view s) {
    if (s.size() != 64) return false;
    for (const char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

artifact_upload::artifact_upload(std::string content_root, std::string temp_path, unique_fd fd,
                                 std::shared_ptr<content_pins> pins)
    : content_root_(std::move(content_root)), temp_path_(std::move(temp_path)), fd_(std::move(fd)),
      pins_(std::move(pins)) {}

artifact_upload::~artifact_upload() {
    discard();
    if (!pinned_.empty()) pins_->unpin(pinned_);
}

void content_pins::pin(const std::string& sha256) {
    std::lock_guard lk(mu_);
    ++pinned_[sha256];
}

void content_pins::unpin(const std::string& sha256) {
    std::lock_guard lk(mu_);
    auto it = pinned_.find(sha256);
    if (it != pinned_.end() && --it->second == 0) pinned_.erase(it);
}

void artifact_upload::write(const void* data, std::size_t n) {
    const auto* p = static_cast<const char*>(data);
    std::size_t left = n;
    while (left > 0) {
        const ssize_t written = ::write(fd_.get(), p, left);
        if (written < 0) {
            if (errno == EINTR) continue;
            throw_errno("artifact write");
        }
        p += written;
        left -= static_cast<std::size_t>(written);
    }
    hash_.update(data, n);
    size_ += n;
}

stored_content artifact_upload::commit() {
    if (::fsync(fd_.get()) != 0) throw_errno("artifact fsync");
    fd_ = unique_fd{};
    stored_content out;
    out.sha256 = hash_.finish_hex();
    out.size = size_;
    // Before looking for the address: a deletion that already looked at it
    // has finished (the pins' lock), one that has not will see the pin.
    pins_->pin(out.sha256);
    pinned_ = out.sha256;

    // Two levels (ab/abcdef...) keep folders small at millions of files.
    const std::string dir = content_root_ + "/" + out.sha256.substr(0, 2);
    if (::mkdir(dir.c_str(), 0755) == 0) {
        sync_directory(content_root_);
    } else if (errno != EEXIST) {
        throw_errno("artifact folder create");
    }
    const std::string final_path = dir + "/" + out.sha256;
    struct stat existing {};
    if (::stat(final_path.c_str(), &existing) == 0) {
        // Only complete files ever get this name: the one there is ours.
        out.already_present = true;
        discard();
        return out;
    }
    if (::rename(temp_path_.c_str(), final_path.c_str()) != 0) throw_errno("artifact rename");
    temp_path_.clear();
    sync_directory(dir);
    return out;
}

void artifact_upload::discard() noexcept {
    fd_ = unique_fd{};
    if (!temp_path_.empty()) {
        ::unlink(temp_path_.c_str());
        temp_path_.clear();
    }
}

std::size_t artifact_content::read_at(std::uint64_t offset, void* out, std::size_t n) const {
    auto* p = static_cast<char*>(out);
    std::size_t done = 0;
    while (done < n) {
        const ssize_t got = ::pread(fd_.get(), p + done, n - done, static_cast<off_t>(offset + done));
        if (got < 0) {
            if (errno == EINTR) continue;
            throw_errno("artifact read");
        }
        if (got == 0) break;  // end of file
        done += static_cast<std::size_t>(got);
    }
    return done;
}

artifact_store::artifact_store(std::string data_dir)
    : data_dir_(std::move(data_dir)),
      content_root_(data_dir_ + "/artifacts/sha256"),
      temp_dir_(data_dir_ + "/artifacts/tmp") {
    std::error_code ec;
    for (const auto* dir : {&content_root_, &temp_dir_}) {
        std::filesystem::create_directories(*dir, ec);
        if (ec) throw std::system_error(ec, "artifact folders create");
    }
}

std::unique_ptr<artifact_upload> artifact_store::begin_upload() const {
    std::string name = temp_dir_ + "/" + temp_prefix + "XXXXXX";
    unique_fd fd{::mkostemp(name.data(), O_CLOEXEC)};
    if (fd.get() < 0) throw_errno("artifact temporary file create");
    return std::unique_ptr<artifact_upload>(new artifact_upload(content_root_, std::move(name), std::move(fd), pins_));
}

std::size_t artifact_store::remove_unreferenced(sqlite3* db, const std::vector<std::string>& sha256s) const {
    constexpr const char* sql_referenced = "SELECT 1 FROM artifacts WHERE sha256 = ?1 LIMIT 1";
    stmt_ptr referenced = prepare(db, sql_referenced);
    std::size_t removed = 0;
    for (const std::string& sha : sha256s) {
        if (!is_sha256_hex(sha)) continue;
        pins_->unless_pinned(sha, [&] {
            sqlite3_reset(referenced.get());
            sqlite3_bind_text(referenced.get(), 1, sha.c_str(), static_cast<int>(sha.size()), SQLITE_TRANSIENT);
            const int rc = sqlite3_step(referenced.get());
            check(db, rc, sql_referenced);
            if (rc == SQLITE_ROW) return;
            if (::unlink(path_of(sha).c_str()) == 0) ++removed;
        });
    }
    return removed;
}

std::optional<artifact_content> artifact_store::open(const std::string& sha256) const {
    const std::string path = path_of(sha256);
    unique_fd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (fd.get() < 0) {
        if (errno == ENOENT) return std::nullopt;
        throw_errno("artifact open");
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw_errno("artifact stat");
    return artifact_content(std::move(fd), static_cast<std::uint64_t>(st.st_size));
}

std::size_t artifact_store::remove_stale_temporaries() const {
    std::size_t removed = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(temp_dir_, ec)) {
        if (!entry.path().filename().string().starts_with(temp_prefix)) continue;
        std::error_code remove_ec;
        if (std::filesystem::remove(entry.path(), remove_ec)) ++removed;
    }
    if (ec) throw std::system_error(ec, "artifact temporary folder list");
    return removed;
}

std::string artifact_store::path_of(std::string_view sha256) const {
    return content_root_ + "/" + std::string(sha256.substr(0, 2)) + "/" + std::string(sha256);
}

std::string artifact_store::relative_path_of(std::string_view sha256) {
    return "artifacts/sha256/" + std::string(sha256.substr(0, 2)) + "/" + std::string(sha256);
}

std::function<void(sqlite3*)> artifact_row_writer(artifact_row row) {
    return [row = std::move(row)](sqlite3* db) { upsert_artifact(db, row); };
}

void upsert_artifact(sqlite3* db, const artifact_row& row) {
    stmt_ptr stmt = prepare(db, sql_upsert);
    bind_text(stmt.get(), 1, row.run_id);
    bind_text(stmt.get(), 2, row.name);
    bind_text(stmt.get(), 3, row.id);
    if (row.step_id) bind_text(stmt.get(), 4, *row.step_id);
    else sqlite3_bind_null(stmt.get(), 4);
    bind_text(stmt.get(), 5, row.content_type);
    sqlite3_bind_int64(stmt.get(), 6, static_cast<sqlite3_int64>(row.size));
    bind_text(stmt.get(), 7, row.sha256);
    sqlite3_bind_int64(stmt.get(), 8, row.created_ms);
    check(db, sqlite3_step(stmt.get()), sql_upsert);
}

artifact_lookup find_artifact(sqlite3* db, const std::string& run_id, const std::string& name) {
    artifact_lookup out;
    stmt_ptr stmt = prepare(db, sql_find);
    bind_text(stmt.get(), 1, run_id);
    bind_text(stmt.get(), 2, name);
    const int rc = sqlite3_step(stmt.get());
    check(db, rc, sql_find);
    if (rc == SQLITE_ROW) {
        // A row is written with the run's event, so its run exists.
        out.row = read_row(stmt.get());
        out.run_exists = true;
        return out;
    }
    out.run_exists = run_exists(db, run_id);
    return out;
}

std::optional<std::vector<artifact_row>> list_artifacts(sqlite3* db, const std::string& run_id) {
    std::vector<artifact_row> rows;
    stmt_ptr stmt = prepare(db, sql_list);
    bind_text(stmt.get(), 1, run_id);
    int rc = 0;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) rows.push_back(read_row(stmt.get()));
    check(db, rc, sql_list);
    if (rows.empty() && !run_exists(db, run_id)) return std::nullopt;
    return rows;
}

std::string encode_artifact(const artifact_row& row) {
    std::string out;
    out.reserve(256 + row.name.size() + row.content_type.size());
    out += "{\"id\":";
    domain::append_json_string(out, row.id);
    out += ",\"run_id\":";
    domain::append_json_string(out, row.run_id);
    out += ",\"step_id\":";
    domain::append_json_string_or_null(out, row.step_id);
    out += ",\"name\":";
    domain::append_json_string(out, row.name);
    out += ",\"content_type\":";
    domain::append_json_string(out, row.content_type);
    out += ",\"size\":" + std::to_string(row.size);
    out += ",\"sha256\":";
    domain::append_json_string(out, row.sha256);
    out += ",\"created_at\":\"";
    domain::append_rfc3339_ms(out, row.created_ms);
    out += "\"}";
    return out;
}

std::vector<std::pair<std::string, std::string>> artifact_files_for_backup(sqlite3* snapshot_db,
                                                                           const std::string& data_dir) {
    std::vector<std::pair<std::string, std::string>> files;
    stmt_ptr exists = prepare(snapshot_db, sql_table_exists);
    const int exists_rc = sqlite3_step(exists.get());
    check(snapshot_db, exists_rc, sql_table_exists);
    if (exists_rc != SQLITE_ROW) return files;

    stmt_ptr stmt = prepare(snapshot_db, sql_distinct_sha);
    int rc = 0;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
        std::string sha{column_text_view(stmt.get(), 0)};
        // The address becomes a path: never let a bad value point elsewhere.
        if (!is_sha256_hex(sha)) throw std::runtime_error("the artifacts table holds a malformed sha256");
        std::string relative = artifact_store::relative_path_of(sha);
        files.emplace_back(relative, data_dir + "/" + relative);
    }
    check(snapshot_db, rc, sql_distinct_sha);
    return files;
}

}  // namespace obs::persistence
