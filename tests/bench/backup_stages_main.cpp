// obs_bench_backup_stages: the breakdown behind scripts/bench-backup. Times,
// one after another on the calling thread (the script pins it to the
// server's core), each stage of the backup worker's pipeline over one
// database snapshot file, so that the end-to-end number can be compared with
// what its parts cost:
//   read      the file in the archive's chunk size (the floor of every stage)
//   sha256    the project's SHA-256 over the file (the manifest's member digest)
//   gzip      the project's gzip_compressor alone at the backup's level
//   archive   archive_producer::run into a discarding sink: tar + gzip +
//             both digests + cutting 5 MiB parts, i.e. the whole worker
//   part_sha  SHA-256 of one 5 MiB part, which s3_client computes for the
//             x-amz-content-sha256 header of each UploadPart
// Prints `key=value` lines on stdout (seconds, bytes). Exit status 0 once
// measured, 1 when the file cannot be read, 2 on bad usage.
#include "backup/archive_producer.hpp"
#include "backup/file_io.hpp"
#include "backup/gzip_stream.hpp"
#include "domain/sha256.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <string>

namespace {

using obs::backup::archive_file;
using obs::backup::archive_options;
using obs::backup::archive_producer;
using obs::backup::manifest_fields;

const char* const usage = "usage: obs_bench_backup_stages --file PATH [--level 1..9] [--chunk BYTES]\n";

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Calls `each` on every chunk of the file, in order; returns the file's size.
std::uint64_t for_each_chunk(const std::string& path, std::size_t chunk_bytes,
                             const std::function<void(const char*, std::size_t)>& each) {
    obs::backup::unique_fd fd = obs::backup::open_for_reading(path);
    std::string chunk(chunk_bytes, '\0');
    std::uint64_t total = 0;
    for (;;) {
        const std::size_t got = obs::backup::read_some(fd.get(), chunk.data(), chunk.size(), path);
        if (got == 0) return total;
        each(chunk.data(), got);
        total += got;
    }
}

int run(const std::string& path, int level, std::size_t chunk_bytes) {
    // read: the cost of getting the bytes at all (from the page cache).
    std::uint64_t checksum = 0;  // keeps the loop from being optimised away
    auto t0 = std::chrono::steady_clock::now();
    const std::uint64_t file_bytes = for_each_chunk(path, chunk_bytes, [&](const char* p, std::size_t n) {
        checksum += static_cast<unsigned char>(p[n - 1]);
    });
    std::printf("file_bytes=%llu\nread_s=%.3f\n", static_cast<unsigned long long>(file_bytes), seconds_since(t0));

    t0 = std::chrono::steady_clock::now();
    obs::domain::sha256 digest;
    for_each_chunk(path, chunk_bytes, [&](const char* p, std::size_t n) { digest.update(p, n); });
    const std::string hex = digest.finish_hex();
    std::printf("sha256_s=%.3f\n", seconds_since(t0));

    t0 = std::chrono::steady_clock::now();
    std::uint64_t gzip_bytes = 0;
    {
        obs::backup::gzip_compressor gz(level, [&](const char*, std::size_t n) { gzip_bytes += n; });
        for_each_chunk(path, chunk_bytes, [&](const char* p, std::size_t n) { gz.write(p, n); });
        gz.finish();
    }
    std::printf("gzip_s=%.3f\ngzip_bytes=%llu\n", seconds_since(t0), static_cast<unsigned long long>(gzip_bytes));

    t0 = std::chrono::steady_clock::now();
    archive_options options;
    options.gzip_level = level;
    options.read_chunk = chunk_bytes;
    archive_producer producer({archive_file{obs::backup::database_member_name, path}}, manifest_fields{}, options);
    const auto summary = producer.run([](std::string, bool) { return true; });
    std::printf("archive_s=%.3f\narchive_bytes=%llu\nparts=%zu\n", seconds_since(t0),
                static_cast<unsigned long long>(summary.bytes), summary.parts);

    const std::string part(obs::backup::s3_min_part_size, 'x');
    constexpr int part_rounds = 8;
    t0 = std::chrono::steady_clock::now();
    std::size_t sink = 0;
    for (int i = 0; i < part_rounds; ++i) sink += obs::domain::sha256_hex(part).size();
    std::printf("part_sha_ms=%.2f\n", seconds_since(t0) * 1000 / part_rounds);
    std::printf("checksum=%llu\n", static_cast<unsigned long long>(checksum + hex.size() + sink));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string path;
    int level = 1;
    std::size_t chunk = 256 * 1024;  // archive_options' default read size
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (i + 1 >= argc) {
            std::fputs(usage, stderr);
            return 2;
        }
        const std::string value = argv[++i];
        if (arg == "--file") path = value;
        else if (arg == "--level") level = std::atoi(value.c_str());
        else if (arg == "--chunk") chunk = static_cast<std::size_t>(std::atoll(value.c_str()));
        else {
            std::fputs(usage, stderr);
            return 2;
        }
    }
    if (path.empty() || level < 1 || level > 9 || chunk == 0) {
        std::fputs(usage, stderr);
        return 2;
    }
    try {
        return run(path, level, chunk);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "obs_bench_backup_stages: %s\n", e.what());
        return 1;
    }
}
