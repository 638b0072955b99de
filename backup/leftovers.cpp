// The startup sweep of backup and restore leftovers (see leftovers.hpp).
#include "backup/leftovers.hpp"

#include <filesystem>
#include <string_view>
#include <system_error>

namespace obs::backup {

namespace fs = std::filesystem;

namespace {

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (const char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

// Strips `suffix` from `name` when it ends with it.
bool strip_suffix(std::string_view& name, std::string_view suffix) {
    if (!name.ends_with(suffix)) return false;
    name.remove_suffix(suffix.size());
    return true;
}

// `.backup-<digits>.db` or its `-journal`: a backup's snapshot.
bool is_snapshot(std::string_view name) {
    strip_suffix(name, "-journal");
    return name.starts_with(".backup-") && strip_suffix(name, ".db") && all_digits(name.substr(8));
}

// `observability-<stamp>.tar.gz.part`: a local tarball being written.
bool is_tarball_part(std::string_view name) {
    return name.starts_with("observability-") && name.size() > 14 + 12 && name.ends_with(".tar.gz.part");
}

// `.restore-<digits>-<digits>`, with `.db` (and its journal) when `database`.
bool is_restore_temp(std::string_view name, bool database) {
    if (database) {
        strip_suffix(name, "-journal");
        if (!strip_suffix(name, ".db")) return false;
    }
    if (!name.starts_with(".restore-")) return false;
    name.remove_prefix(9);
    const auto dash = name.find('-');
    return dash != std::string_view::npos && all_digits(name.substr(0, dash)) && all_digits(name.substr(dash + 1));
}

std::uint64_t size_of(const fs::path& p) {
    std::error_code ec;
    if (!fs::is_directory(p, ec)) {
        const auto n = fs::file_size(p, ec);
        return ec ? 0 : n;
    }
    std::uint64_t total = 0;
    for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        std::error_code size_ec;
        if (it->is_regular_file(size_ec)) {
            const auto n = it->file_size(size_ec);
            if (!size_ec) total += n;
        }
    }
    return total;
}

// Removes each entry of `dir` (not recursing) for which `match` is true.
template <class Match>
void sweep_folder(const fs::path& dir, Match match, sweep_result& out) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
        const fs::path p = it->path();
        std::error_code type_ec;
        const bool directory = it->is_directory(type_ec) && !it->is_symlink(type_ec);
        if (!match(p.filename().string(), directory)) continue;
        const std::uint64_t bytes = size_of(p);
        std::error_code remove_ec;
        fs::remove_all(p, remove_ec);
        if (remove_ec) {
            out.errors.push_back(p.string() + ": " + remove_ec.message());
            continue;
        }
        ++out.removed;
        out.bytes += bytes;
        out.paths.push_back(p.string());
    }
    if (ec) out.errors.push_back(dir.string() + ": " + ec.message());
}

}  // namespace

sweep_result sweep_backup_leftovers(const std::string& data_dir, const std::string& db_path) {
    sweep_result out;
    const fs::path data = data_dir.empty() ? fs::path(".") : fs::path(data_dir);
    fs::path db_dir = fs::path(db_path).parent_path();
    if (db_dir.empty()) db_dir = ".";
    sweep_folder(
        data,
        [](const std::string& name, bool directory) {
            return directory ? is_restore_temp(name, false) : is_snapshot(name) || is_restore_temp(name, true);
        },
        out);
    sweep_folder(
        data / "backups", [](const std::string& name, bool directory) { return !directory && is_tarball_part(name); },
        out);
    std::error_code ec;
    if (!fs::equivalent(db_dir, data, ec)) {
        sweep_folder(
            db_dir, [](const std::string& name, bool directory) { return !directory && is_restore_temp(name, true); },
            out);
    }
    return out;
}

}  // namespace obs::backup
