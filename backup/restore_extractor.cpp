// gunzip -> untar -> files, with the manifest check (see restore_extractor.hpp).
#include "backup/restore_extractor.hpp"

#include "backup/archive_producer.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <filesystem>
#include <stdexcept>

namespace obs::backup {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t max_manifest_bytes = 16 * 1024 * 1024;

// True for "artifacts/a/b": relative, no empty, "." or ".." component.
bool safe_artifact_name(const std::string& name) {
    if (name.rfind("artifacts/", 0) != 0 || name.back() == '/') return false;
    std::size_t start = 0;
    while (start <= name.size()) {
        const std::size_t end = std::min(name.find('/', start), name.size());
        const std::string_view part(name.data() + start, end - start);
        if (part.empty() || part == "." || part == "..") return false;
        start = end + 1;
    }
    return true;
}

}  // namespace

restore_extractor::restore_extractor(std::string db_tmp, std::string artifacts_root)
    : db_tmp_(std::move(db_tmp)),
      artifacts_root_(std::move(artifacts_root)),
      tar_(tar_reader::callbacks{[this](const tar_member& m) { on_member_(m); },
                                 [this](const char* d, std::size_t n) { on_data_(d, n); },
                                 [this] { on_member_end_(); }}),
      gunzip_([this](const char* d, std::size_t n) { tar_.feed(d, n); }) {}

restore_extractor::~restore_extractor() = default;

void restore_extractor::feed(const char* data, std::size_t n) { gunzip_.write(data, n); }

void restore_extractor::on_member_(const tar_member& m) {
    if (m.typeflag == '5') return;  // folders are implied by file names
    if (m.typeflag != '0') throw std::runtime_error("unexpected tar member type in " + m.name);
    if (written_.count(m.name) != 0 || (m.name == manifest_member_name && !manifest_.empty())) {
        throw std::runtime_error("duplicate tar member " + m.name);
    }
    current_ = m.name;
    size_ = 0;
    hash_ = std::make_unique<domain::sha256>();
    out_path_.clear();
    if (m.name == manifest_member_name) {
        if (m.size > max_manifest_bytes) throw std::runtime_error("manifest.json is too large");
        return;
    }
    if (m.name == database_member_name) {
        out_path_ = db_tmp_;
        database_seen_ = true;
    } else if (safe_artifact_name(m.name)) {
        out_path_ = (fs::path(artifacts_root_) / m.name).string();
        fs::create_directories(fs::path(out_path_).parent_path());
        artifacts_.push_back(m.name);
    } else {
        throw std::runtime_error("unexpected tar member " + m.name);
    }
    out_ = open_for_writing(out_path_, true);
}

void restore_extractor::on_data_(const char* data, std::size_t n) {
    hash_->update(data, n);
    size_ += n;
    if (current_ == manifest_member_name) manifest_.append(data, n);
    else write_all(out_.get(), data, n, out_path_);
}

void restore_extractor::on_member_end_() {
    if (current_ == manifest_member_name) return;
    if (current_ == database_member_name) sync_fd(out_.get(), out_path_);
    out_ = unique_fd();
    written_[current_] = {size_, hash_->finish_hex()};
}

restored_manifest restore_extractor::finish() {
    gunzip_.finish();
    tar_.finish();
    if (!database_seen_) throw std::runtime_error("the tarball holds no " + std::string(database_member_name));
    if (manifest_.empty()) throw std::runtime_error("the tarball holds no manifest.json");

    boost::system::error_code ec;
    const boost::json::value doc = boost::json::parse(manifest_, ec);
    if (ec || !doc.is_object()) throw std::runtime_error("manifest.json is not a JSON object");
    const auto& o = doc.as_object();
    restored_manifest m;
    try {
        m.format_version = static_cast<int>(o.at("format_version").to_number<std::int64_t>());
        m.schema_version = static_cast<int>(o.at("schema_version").to_number<std::int64_t>());
        m.last_offset = o.at("last_offset").to_number<std::int64_t>();
        m.event_count = o.at("event_count").to_number<std::int64_t>();
        m.server_version = std::string(o.at("server_version").as_string());
    } catch (const std::exception& e) {
        throw std::runtime_error(std::string("manifest.json lacks a field: ") + e.what());
    }
    if (m.format_version != manifest_format_version) {
        throw std::runtime_error("manifest format " + std::to_string(m.format_version) + " is not supported");
    }
    const auto* members = o.if_contains("members");
    if (members == nullptr || !members->is_array()) throw std::runtime_error("manifest.json lists no members");
    std::size_t listed = 0;
    for (const auto& v : members->as_array()) {
        const auto* item = v.if_object();
        if (item == nullptr) throw std::runtime_error("manifest.json: a member is not an object");
        const std::string name(item->at("name").as_string());
        const auto found = written_.find(name);
        if (found == written_.end()) throw std::runtime_error("manifest.json lists " + name + ", missing from the tarball");
        const auto size = item->at("size").to_number<std::uint64_t>();
        const std::string sha(item->at("sha256").as_string());
        if (found->second.first != size || found->second.second != sha) {
            throw std::runtime_error("sha256 mismatch for " + name + " (manifest " + sha + ", tarball " +
                                     found->second.second + ")");
        }
        ++listed;
    }
    if (listed != written_.size()) throw std::runtime_error("the tarball holds members the manifest does not list");
    return m;
}

}  // namespace obs::backup
