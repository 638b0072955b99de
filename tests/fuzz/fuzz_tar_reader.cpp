// Fuzz harness: the tar reader of restore (backup/tar_reader.hpp). The first
// byte picks the size of the pieces the rest is fed in (a restore feeds
// whatever gunzip gives it). Only tar_error may come out; every member's
// body bytes add up to its size; a member's name is what the header says.
// Then the input's tail is written as one member by tar_writer and must
// read back identically.
#include "backup/tar_reader.hpp"
#include "backup/tar_writer.hpp"
#include "fuzz_check.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

namespace {

void read_arbitrary(const char* data, std::size_t size, std::size_t piece) {
    std::uint64_t expected = 0, got = 0;
    bool open = false;
    obs::backup::tar_reader reader({
        [&](const obs::backup::tar_member& m) {
            obs::fuzz::check(!open, "a header inside a member");
            open = true;
            expected = m.size;
            got = 0;
        },
        [&](const char*, std::size_t n) {
            obs::fuzz::check(open, "body bytes outside a member");
            got += n;
            obs::fuzz::check(got <= expected, "more body bytes than the size");
        },
        [&] {
            obs::fuzz::check(open && got == expected, "a member ended short");
            open = false;
        },
    });
    try {
        for (std::size_t at = 0; at < size; at += piece) reader.feed(data + at, std::min(piece, size - at));
        reader.finish();
        obs::fuzz::check(reader.done() && !open, "finished with a member open");
    } catch (const obs::backup::tar_error&) {
        // A malformed archive: the expected refusal.
    }
}

void round_trip(const std::string& body, std::size_t piece) {
    std::string archive;
    obs::backup::tar_writer writer([&](const char* d, std::size_t n) { archive.append(d, n); });
    const std::string name = "artifacts/sha256/ab/member-" + std::to_string(body.size());
    writer.begin_member(obs::backup::tar_entry{name, body.size(), 1700000000, 0644});
    writer.write(body.data(), body.size());
    writer.end_member();
    writer.finish();
    std::string read_name, read_body;
    int members = 0;
    obs::backup::tar_reader reader({
        [&](const obs::backup::tar_member& m) {
            ++members;
            read_name = m.name;
        },
        [&](const char* d, std::size_t n) { read_body.append(d, n); },
        [] {},
    });
    for (std::size_t at = 0; at < archive.size(); at += piece)
        reader.feed(archive.data() + at, std::min(piece, archive.size() - at));
    reader.finish();
    obs::fuzz::check(members == 1 && read_name == name && read_body == body, "tar round trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t piece = 1 + static_cast<std::size_t>(data[0]) * 7;
    const char* rest = reinterpret_cast<const char*>(data + 1);
    read_arbitrary(rest, size - 1, piece);
    round_trip(std::string(rest, size - 1), piece);
    return 0;
}
