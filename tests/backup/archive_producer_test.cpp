// Tests of backup/archive_producer.cpp: how parts are cut (sizes, the last
// part, a single part, an empty stream), the archive's content and manifest
// (read back with our reader and with GNU tar), the back-pressure bound (a
// blocked sink stops the reading), and cancellation.
#include "backup/archive_producer.hpp"

#include "backup/gzip_stream.hpp"
#include "backup/tar_reader.hpp"
#include "domain/sha256.hpp"
#include "support.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

using namespace obs::backup;
using namespace obs::backup::test;

namespace {

struct cut_part {
    std::size_t size;
    bool last;
};

// Members of a .tar.gz held in memory: name -> body.
std::vector<std::pair<std::string, std::string>> untar_gz(const std::string& gz) {
    std::vector<std::pair<std::string, std::string>> out;
    tar_reader tar(tar_reader::callbacks{[&](const tar_member& m) { out.emplace_back(m.name, ""); },
                                         [&](const char* d, std::size_t n) { out.back().second.append(d, n); },
                                         nullptr});
    gunzip_decompressor gunzip([&](const char* d, std::size_t n) { tar.feed(d, n); });
    gunzip.write(gz.data(), gz.size());
    gunzip.finish();
    tar.finish();
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(archive_producer_suite)

BOOST_AUTO_TEST_CASE(part_cutting) {
    struct case_t {
        std::string what;
        std::size_t part_size;
        std::vector<std::size_t> writes;
        std::vector<cut_part> expected;
    };
    const case_t cases[] = {
        {"several parts, last smaller", 10, {25}, {{10, false}, {10, false}, {5, true}}},
        {"exact multiple: the last is full", 10, {20}, {{10, false}, {10, true}}},
        {"single part", 10, {3}, {{3, true}}},
        {"exactly one part", 10, {10}, {{10, true}}},
        {"empty stream: one empty last part", 10, {}, {{0, true}}},
        {"byte by byte", 10, std::vector<std::size_t>(21, 1), {{10, false}, {10, false}, {1, true}}},
        {"uneven writes", 4, {3, 3, 3}, {{4, false}, {4, false}, {1, true}}},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            std::vector<cut_part> got;
            std::string joined;
            part_cutter cutter(c.part_size, [&](std::string part, bool last) {
                got.push_back(cut_part{part.size(), last});
                joined += part;
                return true;
            });
            std::string input;
            for (std::size_t n : c.writes) {
                const std::string piece = random_bytes(n, static_cast<std::uint32_t>(input.size()));
                input += piece;
                BOOST_TEST(cutter.write(piece.data(), piece.size()));
            }
            BOOST_TEST(cutter.finish());
            BOOST_TEST_REQUIRE(got.size() == c.expected.size());
            for (std::size_t i = 0; i < got.size(); ++i) {
                BOOST_TEST(got[i].size == c.expected[i].size);
                BOOST_TEST(got[i].last == c.expected[i].last);
            }
            BOOST_TEST((joined == input));
            BOOST_TEST(cutter.parts_emitted() == c.expected.size());
        }
    }
}

BOOST_AUTO_TEST_CASE(a_refusing_sink_stops_the_cutter) {
    int calls = 0;
    part_cutter cutter(4, [&](std::string, bool) { return ++calls < 2; });
    BOOST_TEST(!cutter.write("0123456789abc", 13));  // part 2 refused
    BOOST_TEST(calls == 2);
    BOOST_TEST(!cutter.write("x", 1));
    BOOST_TEST(!cutter.finish());
    BOOST_TEST(calls == 2);
}

BOOST_AUTO_TEST_CASE(archive_content_and_manifest) {
    temp_dir dir;
    const std::string db = random_bytes(300000, 11);
    const std::string artifact = "artifact content\n";
    write_file(dir / "snap.db", db);
    write_file(dir / "art", artifact);
    const std::string artifact_name = "artifacts/sha256/ab/" + obs::domain::sha256_hex(artifact);
    manifest_fields fields{"9.8.7", 3, 4242, 4000, 1795817045123};
    archive_producer producer({{database_member_name, dir / "snap.db"}, {artifact_name, dir / "art"}}, fields,
                              archive_options{1, 64 * 1024, 10000});
    std::vector<std::string> parts;
    std::vector<bool> lasts;
    const archive_summary s = producer.run([&](std::string p, bool last) {
        parts.push_back(std::move(p));
        lasts.push_back(last);
        return true;
    });
    BOOST_TEST(!s.cancelled);
    BOOST_TEST_REQUIRE(parts.size() >= 4u);  // ~300 KB of random bytes in 64 KiB parts
    BOOST_TEST(s.parts == parts.size());
    std::string whole;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        BOOST_TEST_CONTEXT("part " << i) {
            BOOST_TEST(lasts[i] == (i + 1 == parts.size()));
            if (i + 1 < parts.size()) BOOST_TEST(parts[i].size() == 64u * 1024u);
            BOOST_TEST(!parts[i].empty());
        }
        whole += parts[i];
    }
    BOOST_TEST(s.bytes == whole.size());
    BOOST_TEST(s.sha256 == obs::domain::sha256_hex(whole));
    BOOST_TEST(producer.input_bytes() == db.size() + artifact.size());

    const auto members = untar_gz(whole);
    BOOST_TEST_REQUIRE(members.size() == 3u);
    BOOST_TEST(members[0].first == "observability.db");
    BOOST_TEST((members[0].second == db));
    BOOST_TEST(members[1].first == artifact_name);
    BOOST_TEST(members[1].second == artifact);
    BOOST_TEST(members[2].first == "manifest.json");  // last: it holds the others' digests

    const auto m = boost::json::parse(members[2].second).as_object();
    BOOST_TEST(m.at("format_version").as_int64() == 1);
    BOOST_TEST(m.at("server_version").as_string() == "9.8.7");
    BOOST_TEST(m.at("schema_version").as_int64() == 3);
    BOOST_TEST(m.at("last_offset").as_int64() == 4242);
    BOOST_TEST(m.at("event_count").as_int64() == 4000);
    BOOST_TEST(m.at("created_at").as_string() == "2026-11-27T22:04:05.123Z");
    const auto& listed = m.at("members").as_array();
    BOOST_TEST_REQUIRE(listed.size() == 2u);
    BOOST_TEST(listed[0].at("name").as_string() == "observability.db");
    BOOST_TEST(listed[0].at("size").to_number<std::uint64_t>() == db.size());
    BOOST_TEST(listed[0].at("sha256").as_string() == obs::domain::sha256_hex(db));
    BOOST_TEST(listed[1].at("sha256").as_string() == obs::domain::sha256_hex(artifact));
    BOOST_TEST(s.members.size() == 2u);

    write_file(dir / "a.tar.gz", whole);
    const command_result list = run_command("tar tzf " + shell_quote(dir / "a.tar.gz"));
    BOOST_TEST(list.status == 0, list.output);
    BOOST_TEST(list.output == "observability.db\n" + artifact_name + "\nmanifest.json\n");
}

BOOST_AUTO_TEST_CASE(a_blocked_sink_bounds_what_is_read) {
    // Random bytes do not compress: input and output advance together, so
    // what was read while the sink blocks measures the memory held.
    temp_dir dir;
    constexpr std::size_t part = 64 * 1024;
    constexpr std::size_t chunk = 16 * 1024;
    const std::string db = random_bytes(4 << 20, 12);
    write_file(dir / "snap.db", db);
    archive_producer producer({{database_member_name, dir / "snap.db"}}, {}, archive_options{1, part, chunk});

    std::mutex m;
    std::condition_variable cv;
    int parts_seen = 0;
    bool blocked = false;
    bool release = false;
    std::thread worker([&] {
        producer.run([&](std::string, bool) {
            std::unique_lock lock(m);
            if (++parts_seen == 3) {
                blocked = true;
                cv.notify_all();
                cv.wait(lock, [&] { return release; });
            }
            return true;
        });
    });
    std::uint64_t read_while_blocked = 0;
    {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return blocked; });
        read_while_blocked = producer.input_bytes();
        release = true;
        cv.notify_all();
    }
    worker.join();
    // Three parts handed over, the fourth being cut: at most one part, one
    // read chunk and zlib's internal buffers beyond them.
    BOOST_TEST(read_while_blocked <= 4 * part + chunk + 64 * 1024);
    BOOST_TEST(read_while_blocked >= 3 * part - 64 * 1024);
    BOOST_TEST(producer.input_bytes() == db.size());
}

BOOST_AUTO_TEST_CASE(cancellation_stops_it_early) {
    temp_dir dir;
    write_file(dir / "snap.db", random_bytes(2 << 20, 13));
    struct case_t {
        std::string what;
        bool by_sink;
    };
    for (const case_t& c : {case_t{"sink refuses", true}, case_t{"cancel()", false}}) {
        BOOST_TEST_CONTEXT(c.what) {
            archive_producer producer({{database_member_name, dir / "snap.db"}}, {}, archive_options{1, 64 * 1024, 8192});
            int parts = 0;
            const archive_summary s = producer.run([&](std::string, bool) {
                ++parts;
                if (parts == 2 && !c.by_sink) producer.cancel();
                return !(parts == 2 && c.by_sink);
            });
            BOOST_TEST(s.cancelled);
            BOOST_TEST(s.sha256.empty());
            BOOST_TEST(parts <= 3);
            BOOST_TEST(producer.input_bytes() < (2u << 20) / 4);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_an_error) {
    archive_producer producer({{database_member_name, "/nonexistent/obs/snap.db"}}, {}, archive_options{});
    BOOST_CHECK_THROW(producer.run([](std::string, bool) { return true; }), std::system_error);
}

BOOST_AUTO_TEST_SUITE_END()
