// Tests of persistence/artifact_store.cpp: content stored under its sha256
// only once complete, identical content stored once, unfinished uploads
// leaving no file under a real name, the start-up sweep, reads at offsets,
// the `artifacts` rows committed with their event by the writer's hook, the
// artifact JSON object, and the file list of a backup.
#include "persistence/artifact_store.hpp"

#include "domain/sha256.hpp"
#include "persistence/event_writer.hpp"
#include "persistence/migrations.hpp"
#include "support.hpp"
#include "tests/support/test_files.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <stdexcept>

using namespace obs::persistence;
using namespace obs::persistence::test;
using obs::test::count_files;
using obs::test::file_bytes;
using obs::test::random_bytes;
namespace fs = std::filesystem;

namespace {

std::atomic<int> next_dir{0};

// A data directory under the temp folder, removed with its contents.
struct temp_data_dir {
    fs::path path = fs::temp_directory_path() /
                    ("obs-artifacts-" + std::to_string(::getpid()) + "-" + std::to_string(next_dir++));
    temp_data_dir() { fs::remove_all(path); }
    ~temp_data_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// Writes `data` through a new upload in pieces of `piece` bytes and commits.
stored_content store_bytes(const artifact_store& store, const std::string& data, std::size_t piece = 7919) {
    auto upload = store.begin_upload();
    for (std::size_t at = 0; at < data.size(); at += piece)
        upload->write(data.data() + at, std::min(piece, data.size() - at));
    BOOST_TEST(upload->size() == data.size());
    return upload->commit();
}

artifact_row make_row(const std::string& run_id, const std::string& name, const std::string& sha,
                      std::optional<std::string> step_id = {}) {
    static int serial = 0;
    artifact_row row;
    row.id = "artifact-event-" + std::to_string(++serial);
    row.run_id = run_id;
    row.step_id = std::move(step_id);
    row.name = name;
    row.content_type = "text/plain";
    row.size = 42;
    row.sha256 = sha;
    row.created_ms = base_ts;
    return row;
}

// Commits `row` the way the server does: an `artifact` event whose hook
// upserts the row, in the same savepoint.
write_outcome commit_row(event_writer& w, const artifact_row& row, bool hook_throws = false) {
    obs::domain::event ev = make_event(row.run_id, obs::domain::event_type::artifact,
                                       R"({"name":"n","sha256":")" + row.sha256 + R"(","size":42,"content_type":"t"})",
                                       row.created_ms, row.id);
    std::vector<obs::domain::event> batch;
    batch.push_back(std::move(ev));
    auto f = submit(w, std::move(batch), [row, hook_throws](sqlite3* db) {
        upsert_artifact(db, row);
        if (hook_throws) throw std::runtime_error("disk on fire");
    });
    return wait(f);
}

const std::string sha_a(64, 'a');
const std::string sha_b = std::string(63, 'b') + "c";

}  // namespace

BOOST_AUTO_TEST_SUITE(artifact_store_suite)

BOOST_AUTO_TEST_CASE(upload_is_stored_under_its_address) {
    struct size_case {
        std::size_t bytes, piece;
    };
    temp_data_dir dir;
    artifact_store store(dir.path.string());
    unsigned seed = 1;
    for (const size_case c : {size_case{0, 1}, size_case{1, 1}, size_case{1000, 3}, size_case{3 << 20, 65536}}) {
        BOOST_TEST_CONTEXT(c.bytes << " bytes in pieces of " << c.piece) {
            const std::string data = random_bytes(c.bytes, seed++);
            const stored_content stored = store_bytes(store, data, c.piece);
            BOOST_TEST(stored.sha256 == obs::domain::sha256_hex(data));
            BOOST_TEST(stored.size == c.bytes);
            BOOST_TEST(!stored.already_present);
            const fs::path expected = dir.path / "artifacts" / "sha256" / stored.sha256.substr(0, 2) / stored.sha256;
            BOOST_TEST(store.path_of(stored.sha256) == expected.string());
            BOOST_TEST(artifact_store::relative_path_of(stored.sha256) ==
                       "artifacts/sha256/" + stored.sha256.substr(0, 2) + "/" + stored.sha256);
            BOOST_TEST_REQUIRE(fs::is_regular_file(expected));
            BOOST_TEST(file_bytes(expected) == data);
            BOOST_TEST(count_files(store.temp_dir()) == 0u);
        }
    }
}

BOOST_AUTO_TEST_CASE(identical_content_is_stored_once) {
    temp_data_dir dir;
    artifact_store store(dir.path.string());
    const std::string data = random_bytes(100000, 7);
    const stored_content first = store_bytes(store, data);
    const stored_content second = store_bytes(store, data, 1000);
    BOOST_TEST(!first.already_present);
    BOOST_TEST(second.already_present);
    BOOST_TEST(second.sha256 == first.sha256);
    BOOST_TEST(count_files(dir.path / "artifacts" / "sha256") == 1u);
    BOOST_TEST(count_files(store.temp_dir()) == 0u);
    BOOST_TEST(file_bytes(store.path_of(first.sha256)) == data);
}

BOOST_AUTO_TEST_CASE(unfinished_upload_leaves_no_file_under_a_real_name) {
    for (const bool explicit_discard : {true, false}) {
        BOOST_TEST_CONTEXT((explicit_discard ? "discard()" : "destructor")) {
            temp_data_dir dir;
            artifact_store store(dir.path.string());
            {
                auto upload = store.begin_upload();
                upload->write("partial", 7);
                // Mid-upload (what a crash would find): only a temporary file.
                BOOST_TEST(count_files(store.temp_dir()) == 1u);
                BOOST_TEST(count_files(dir.path / "artifacts" / "sha256") == 0u);
                if (explicit_discard) {
                    upload->discard();
                    BOOST_TEST(count_files(store.temp_dir()) == 0u);
                    upload->discard();  // idempotent
                }
            }
            BOOST_TEST(count_files(store.temp_dir()) == 0u);
            BOOST_TEST(count_files(dir.path / "artifacts" / "sha256") == 0u);
        }
    }
}

BOOST_AUTO_TEST_CASE(stale_temporaries_are_swept) {
    temp_data_dir dir;
    artifact_store store(dir.path.string());
    for (const char* name : {"upload-a1b2c3", "upload-zzzzzz"}) std::ofstream(fs::path(store.temp_dir()) / name) << "x";
    std::ofstream(fs::path(store.temp_dir()) / "not-ours") << "keep";
    const stored_content kept = store_bytes(store, "complete");
    BOOST_TEST(store.remove_stale_temporaries() == 2u);
    BOOST_TEST(count_files(store.temp_dir()) == 1u);
    BOOST_TEST(fs::exists(fs::path(store.temp_dir()) / "not-ours"));
    BOOST_TEST(file_bytes(store.path_of(kept.sha256)) == "complete");
    BOOST_TEST(store.remove_stale_temporaries() == 0u);
}

BOOST_AUTO_TEST_CASE(content_reads_at_offsets) {
    temp_data_dir dir;
    artifact_store store(dir.path.string());
    const std::string data = random_bytes(5000, 11);
    const stored_content stored = store_bytes(store, data);
    auto content = store.open(stored.sha256);
    BOOST_TEST_REQUIRE(content.has_value());
    BOOST_TEST(content->size() == data.size());
    struct read_case {
        std::uint64_t offset;
        std::size_t n, expected;
    };
    for (const read_case c : {read_case{0, 5000, 5000}, read_case{0, 10, 10}, read_case{4990, 100, 10},
                              read_case{5000, 10, 0}, read_case{9999, 10, 0}, read_case{1234, 0, 0}}) {
        BOOST_TEST_CONTEXT("offset " << c.offset << " n " << c.n) {
            std::string out(c.n, '\0');
            const std::size_t got = content->read_at(c.offset, out.data(), c.n);
            BOOST_TEST(got == c.expected);
            BOOST_TEST(out.substr(0, got) == data.substr(std::min<std::size_t>(c.offset, data.size()), got));
        }
    }
    BOOST_TEST(!store.open(sha_a).has_value());
}

BOOST_AUTO_TEST_CASE(content_address_syntax) {
    struct sha_case {
        std::string text;
        bool valid;
    };
    for (const sha_case& c : {sha_case{sha_a, true}, sha_case{obs::domain::sha256_hex("x"), true},
                              sha_case{std::string(63, 'a'), false}, sha_case{std::string(65, 'a'), false},
                              sha_case{std::string(64, 'A'), false}, sha_case{std::string(63, 'a') + "g", false},
                              sha_case{"../../../../etc/passwd", false}, sha_case{"", false}}) {
        BOOST_TEST_CONTEXT(c.text) { BOOST_TEST(is_sha256_hex(c.text) == c.valid); }
    }
}

BOOST_AUTO_TEST_CASE(rows_commit_with_their_event_and_replace_by_name) {
    temp_db tmp;
    event_writer w(tmp.writer_opts());
    w.start();
    db_ptr reader = tmp.open(true);

    BOOST_TEST(!list_artifacts(reader.get(), "r1").has_value());
    BOOST_TEST(!find_artifact(reader.get(), "r1", "a.txt").run_exists);

    BOOST_TEST_REQUIRE((commit_row(w, make_row("r1", "b.txt", sha_a, "step-1")).result == write_outcome::status::committed));
    BOOST_TEST_REQUIRE((commit_row(w, make_row("r1", "a.txt", sha_a)).result == write_outcome::status::committed));
    BOOST_TEST(query_int(reader.get(), "SELECT count(*) FROM events WHERE run_id = 'r1' AND type = 'artifact'") == 2);

    auto listed = list_artifacts(reader.get(), "r1");
    BOOST_TEST_REQUIRE(listed.has_value());
    BOOST_TEST_REQUIRE(listed->size() == 2u);
    BOOST_TEST((*listed)[0].name == "a.txt");  // ordered by name
    BOOST_TEST((*listed)[1].name == "b.txt");
    BOOST_TEST((*listed)[1].step_id.value_or("-") == "step-1");
    BOOST_TEST(!(*listed)[0].step_id.has_value());

    // A re-put of the same name replaces the pointer: one row, the new content.
    const artifact_row replacement = make_row("r1", "a.txt", sha_b);
    BOOST_TEST_REQUIRE((commit_row(w, replacement).result == write_outcome::status::committed));
    auto found = find_artifact(reader.get(), "r1", "a.txt");
    BOOST_TEST(found.run_exists);
    BOOST_TEST_REQUIRE(found.row.has_value());
    BOOST_TEST(found.row->sha256 == sha_b);
    BOOST_TEST(found.row->id == replacement.id);
    BOOST_TEST(list_artifacts(reader.get(), "r1")->size() == 2u);
    BOOST_TEST(query_int(reader.get(), "SELECT count(*) FROM artifacts") == 2);

    // A run without artifacts, and an unknown name in a known run.
    auto f = submit(w, {thought("r2")});
    BOOST_TEST_REQUIRE((wait(f).result == write_outcome::status::committed));
    BOOST_TEST(list_artifacts(reader.get(), "r2")->empty());
    auto missing = find_artifact(reader.get(), "r2", "a.txt");
    BOOST_TEST(missing.run_exists);
    BOOST_TEST(!missing.row.has_value());
}

BOOST_AUTO_TEST_CASE(failing_hook_stores_neither_row_nor_event) {
    temp_db tmp;
    event_writer w(tmp.writer_opts());
    w.start();
    const write_outcome o = commit_row(w, make_row("r1", "a.txt", sha_a), true);
    BOOST_TEST((o.result == write_outcome::status::failed));
    db_ptr reader = tmp.open(true);
    BOOST_TEST(query_int(reader.get(), "SELECT count(*) FROM artifacts") == 0);
    BOOST_TEST(query_int(reader.get(), "SELECT count(*) FROM events") == 0);
}

BOOST_AUTO_TEST_CASE(artifact_object_of_the_contract) {
    struct encode_case {
        std::optional<std::string> step_id;
        std::string name;
    };
    for (const encode_case& c : {encode_case{std::nullopt, "report.pdf"}, encode_case{"s-1", "qu\"ote\\ \xc3\xa9\xe2\x82\xac"}}) {
        BOOST_TEST_CONTEXT(c.name) {
            artifact_row row = make_row("run-1", c.name, sha_a, c.step_id);
            const auto v = boost::json::parse(encode_artifact(row)).as_object();
            BOOST_TEST(v.size() == 8u);
            BOOST_TEST(v.at("id").as_string() == row.id);
            BOOST_TEST(v.at("run_id").as_string() == "run-1");
            if (c.step_id) BOOST_TEST(v.at("step_id").as_string() == *c.step_id);
            else BOOST_TEST(v.at("step_id").is_null());
            BOOST_TEST(v.at("name").as_string() == c.name);
            BOOST_TEST(v.at("content_type").as_string() == "text/plain");
            BOOST_TEST(v.at("size").to_number<std::int64_t>() == 42);
            BOOST_TEST(v.at("sha256").as_string() == sha_a);
            BOOST_TEST(v.at("created_at").as_string() == "2026-11-27T22:04:05.123Z");
        }
    }
}

BOOST_AUTO_TEST_CASE(backup_lists_each_content_file_once) {
    temp_db tmp;
    {
        event_writer w(tmp.writer_opts());
        w.start();
        for (const auto& row : {make_row("r1", "x", sha_b), make_row("r1", "y", sha_a), make_row("r2", "x", sha_b)})
            BOOST_TEST_REQUIRE((commit_row(w, row).result == write_outcome::status::committed));
    }
    db_ptr db = tmp.open(true);
    const auto files = artifact_files_for_backup(db.get(), "/data");
    BOOST_TEST_REQUIRE(files.size() == 2u);
    BOOST_TEST(files[0].first == "artifacts/sha256/aa/" + sha_a);
    BOOST_TEST(files[0].second == "/data/artifacts/sha256/aa/" + sha_a);
    BOOST_TEST(files[1].first == "artifacts/sha256/bb/" + sha_b);
    BOOST_TEST(files[1].second == "/data/artifacts/sha256/bb/" + sha_b);

    // A snapshot from before the artifacts migration has nothing to add.
    temp_db bare(false);
    db_ptr bare_db = bare.open();
    BOOST_TEST(artifact_files_for_backup(bare_db.get(), "/data").empty());

    // A value that is not an address never becomes a path.
    db_ptr writer = tmp.open();
    upsert_artifact(writer.get(), make_row("r3", "evil", "../../../../etc/passwd"));
    BOOST_CHECK_THROW(artifact_files_for_backup(writer.get(), "/data"), std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()
