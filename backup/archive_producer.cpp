// files -> tar -> gzip -> parts, with digests for the manifest (see
// archive_producer.hpp).
#include "backup/archive_producer.hpp"

#include "backup/file_io.hpp"
#include "backup/gzip_stream.hpp"
#include "backup/tar_writer.hpp"
#include "domain/sha256.hpp"
#include "domain/time.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <cassert>
#include <sys/stat.h>
#include <system_error>

namespace obs::backup {

part_cutter::part_cutter(std::size_t part_size, part_sink sink) : part_size_(part_size), sink_(std::move(sink)) {
    assert(part_size_ > 0);
}

bool part_cutter::write(const char* data, std::size_t n) {
    if (stopped_) return false;
    buffer_.append(data, n);
    while (buffer_.size() > part_size_) {
        std::string part = buffer_.substr(0, part_size_);
        buffer_.erase(0, part_size_);
        ++parts_;
        if (!sink_(std::move(part), false)) {
            stopped_ = true;
            return false;
        }
    }
    return true;
}

bool part_cutter::finish() {
    if (stopped_) return false;
    ++parts_;
    std::string last;
    last.swap(buffer_);
    stopped_ = !sink_(std::move(last), true);
    return !stopped_;
}

std::string encode_manifest(const manifest_fields& fields, const std::vector<member_digest>& members) {
    boost::json::array list;
    for (const auto& m : members) {
        list.push_back(boost::json::object{{"name", m.name}, {"size", m.size}, {"sha256", m.sha256}});
    }
    boost::json::object o{
        {"format_version", manifest_format_version},
        {"server_version", fields.server_version},
        {"schema_version", fields.schema_version},
        {"last_offset", fields.last_offset},
        {"event_count", fields.event_count},
        {"created_at", domain::format_rfc3339_ms(fields.created_unix_ms)},
        {"database", database_member_name},
        {"members", std::move(list)},
    };
    return boost::json::serialize(o);
}

archive_producer::archive_producer(std::vector<archive_file> files, manifest_fields fields, archive_options options)
    : files_(std::move(files)), fields_(std::move(fields)), options_(options) {}

archive_summary archive_producer::run(const part_sink& sink) {
    archive_summary summary;
    domain::sha256 whole;
    part_cutter cutter(options_.part_size, [&](std::string part, bool last) {
        if (cancelled_.load()) return false;
        whole.update(part);
        summary.bytes += part.size();
        return sink(std::move(part), last);
    });
    // Parts stop being accepted once the sink refuses; the pipeline then
    // unwinds by the cancelled flag at the next chunk.
    gzip_compressor gz(options_.gzip_level, [&](const char* data, std::size_t n) {
        if (!cutter.write(data, n)) cancelled_.store(true);
    });
    tar_writer tar([&](const char* data, std::size_t n) { gz.write(data, n); });
    const std::int64_t mtime = fields_.created_unix_ms / 1000;

    std::string chunk(options_.read_chunk, '\0');
    for (const auto& file : files_) {
        unique_fd fd = open_for_reading(file.path);
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) throw std::system_error(errno, std::generic_category(), "cannot stat " + file.path);
        const auto size = static_cast<std::uint64_t>(st.st_size);
        tar.begin_member(tar_entry{file.name, size, mtime, 0644});
        domain::sha256 digest;
        std::uint64_t left = size;
        while (left > 0) {
            if (cancelled_.load()) {
                summary.cancelled = true;
                return summary;
            }
            const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk.size()));
            const std::size_t got = read_some(fd.get(), chunk.data(), want, file.path);
            if (got == 0) throw std::system_error(EIO, std::generic_category(), "file shrank while archived: " + file.path);
            input_bytes_.fetch_add(got);
            digest.update(chunk.data(), got);
            tar.write(chunk.data(), got);
            left -= got;
        }
        tar.end_member();
        summary.members.push_back(member_digest{file.name, size, digest.finish_hex()});
    }
    const std::string manifest = encode_manifest(fields_, summary.members);
    tar.begin_member(tar_entry{manifest_member_name, manifest.size(), mtime, 0644});
    tar.write(manifest.data(), manifest.size());
    tar.end_member();
    tar.finish();
    gz.finish();
    if (cancelled_.load() || !cutter.finish()) {
        summary.cancelled = true;
        return summary;
    }
    summary.parts = cutter.parts_emitted();
    summary.sha256 = whole.finish_hex();
    return summary;
}

}  // namespace obs::backup
