// Tests of backup/tar_reader.cpp: a round trip through the writer fed in
// pieces of every awkward size, archives made by GNU tar, and the errors a
// corrupt or truncated archive must give.
#include "backup/tar_reader.hpp"

#include "backup/tar_writer.hpp"
#include "support.hpp"

#include <boost/test/unit_test.hpp>

using namespace obs::backup;
using namespace obs::backup::test;

namespace {

struct read_member {
    tar_member header;
    std::string body;
    bool ended = false;
};

// Reads `archive` fed in pieces of `piece` bytes.
std::vector<read_member> read_all(const std::string& archive, std::size_t piece, bool* done = nullptr) {
    std::vector<read_member> out;
    tar_reader r(tar_reader::callbacks{
        [&](const tar_member& m) { out.push_back(read_member{m, "", false}); },
        [&](const char* d, std::size_t n) { out.back().body.append(d, n); },
        [&] { out.back().ended = true; }});
    for (std::size_t at = 0; at < archive.size(); at += piece) {
        r.feed(archive.data() + at, std::min(piece, archive.size() - at));
    }
    if (done) *done = r.done();
    r.finish();
    return out;
}

std::string write_archive(const std::vector<std::pair<std::string, std::string>>& members) {
    std::string archive;
    tar_writer w([&](const char* d, std::size_t n) { archive.append(d, n); });
    for (const auto& [name, content] : members) {
        w.begin_member(tar_entry{name, content.size(), 1795817045, 0600});
        w.write(content.data(), content.size());
        w.end_member();
    }
    w.finish();
    return archive;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tar_reader_suite)

BOOST_AUTO_TEST_CASE(round_trip_in_pieces_of_any_size) {
    const std::vector<std::pair<std::string, std::string>> members = {
        {"observability.db", random_bytes(5000, 7)},
        {"empty", ""},
        {std::string(120, 'd') + "/" + std::string(80, 'f'), "long name"},
        {"manifest.json", "{}"},
    };
    const std::string archive = write_archive(members);
    for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{511}, std::size_t{512}, std::size_t{513},
                              archive.size()}) {
        BOOST_TEST_CONTEXT("pieces of " << piece) {
            const auto got = read_all(archive, piece);
            BOOST_TEST_REQUIRE(got.size() == members.size());
            for (std::size_t i = 0; i < got.size(); ++i) {
                BOOST_TEST(got[i].header.name == members[i].first);
                BOOST_TEST(got[i].header.size == members[i].second.size());
                BOOST_TEST(got[i].header.mode == 0600u);
                BOOST_TEST(got[i].header.mtime == 1795817045);
                BOOST_TEST((got[i].body == members[i].second));
                BOOST_TEST(got[i].ended);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(reads_gnu_tar_archives) {
    temp_dir dir;
    run_command("mkdir -p " + shell_quote(dir / "src/sub"));
    write_file(dir / "src/a.bin", random_bytes(1500, 3));
    write_file(dir / "src/sub/b.txt", "hello");
    const command_result made = run_command("cd " + shell_quote(dir / "src") +
                                            " && tar --format=ustar -cf ../gnu.tar a.bin sub/b.txt");
    BOOST_TEST_REQUIRE(made.status == 0, made.output);
    bool done = false;
    const auto got = read_all(read_file(dir / "gnu.tar"), 4096, &done);  // GNU pads to 10 KiB records
    BOOST_TEST(done);
    BOOST_TEST_REQUIRE(got.size() == 2u);
    BOOST_TEST(got[0].header.name == "a.bin");
    BOOST_TEST((got[0].body == read_file(dir / "src/a.bin")));
    BOOST_TEST(got[1].header.name == "sub/b.txt");
    BOOST_TEST(got[1].body == "hello");
}

BOOST_AUTO_TEST_CASE(corrupt_and_truncated_archives_are_errors) {
    const std::string good = write_archive({{"a", "alpha"}, {"b", "beta"}});
    struct case_t {
        std::string what;
        std::string archive;
    };
    std::string bad_checksum = good;
    bad_checksum[10] = 'X';  // inside the first name: the checksum no longer matches
    std::string bad_magic = good;
    bad_magic[257] = 'x';
    std::string trailing = good + std::string(512, 'z');
    std::string lone_zero = good.substr(0, 1024) + std::string(512, '\0') + good.substr(1024, 512);
    const case_t cases[] = {
        {"bad checksum", bad_checksum},
        {"bad magic", bad_magic},
        {"cut in a body", good.substr(0, 600)},
        {"no end marker", good.substr(0, 2048)},
        {"one end block only", good.substr(0, good.size() - 512)},
        {"garbage after the end", trailing},
        {"a zero block then a header", lone_zero},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what) { BOOST_CHECK_THROW(read_all(c.archive, 100), tar_error); }
    }
    // Zero padding after the end is what GNU tar writes: accepted.
    BOOST_CHECK_NO_THROW(read_all(good + std::string(8192, '\0'), 100));
}

BOOST_AUTO_TEST_SUITE_END()
