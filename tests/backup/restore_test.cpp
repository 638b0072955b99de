// Tests of backup/restore.cpp and restore_extractor.cpp: round trips from a
// local tarball and from S3 (counts, last offset, artifacts), refusing to
// overwrite without --force, and the tarballs that must be refused
// (corrupt, a manifest that disagrees, a hostile member name, a database
// that fails integrity_check) leaving no database and no temporary file.
#include "backup/restore.hpp"

#include "backup/archive_producer.hpp"
#include "backup/gzip_stream.hpp"
#include "backup/tar_writer.hpp"
#include "backup_fixture.hpp"
#include "domain/sha256.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>

using namespace obs::backup;
using namespace obs::backup::test;
namespace asio = boost::asio;
namespace persistence = obs::persistence;
namespace fs = std::filesystem;

namespace {

backup_outcome backup_of(const std::string& db, const std::string& data_dir, std::optional<s3_config> s3) {
    asio::io_context io;
    backup_runner runner(io.get_executor());
    return run_until_done(io, runner.run(request_for(db, data_dir, std::move(s3))), std::chrono::minutes(5));
}

std::pair<std::int64_t, std::int64_t> totals(const std::string& db) {
    persistence::db_ptr c = persistence::open_database(db, true);
    return {query_int(c.get(), "SELECT count(*) FROM events"), query_int(c.get(), R"(SELECT max("offset") FROM events)")};
}

// A hand-made tarball: members in order, then a manifest built by `manifest`.
std::string make_tarball(const std::vector<std::pair<std::string, std::string>>& members, const std::string& manifest) {
    std::string out;
    gzip_compressor gz(1, [&](const char* d, std::size_t n) { out.append(d, n); });
    tar_writer tar([&](const char* d, std::size_t n) { gz.write(d, n); });
    auto add = [&](const std::string& name, const std::string& body) {
        tar.begin_member(tar_entry{name, body.size(), 0, 0644});
        tar.write(body.data(), body.size());
        tar.end_member();
    };
    for (const auto& [name, body] : members) add(name, body);
    add(manifest_member_name, manifest);
    tar.finish();
    gz.finish();
    return out;
}

std::string manifest_for(const std::vector<std::pair<std::string, std::string>>& members) {
    std::vector<member_digest> digests;
    for (const auto& [name, body] : members) digests.push_back({name, body.size(), obs::domain::sha256_hex(body)});
    return encode_manifest(manifest_fields{"t", 3, 1, 1, 0}, digests);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(restore_suite)

BOOST_AUTO_TEST_CASE(local_round_trip_with_artifacts_and_force) {
    temp_dir work;
    make_event_db(work / "src.db", 3000, 16);
    const std::string artifact = "artifact bytes";
    const std::string hash = obs::domain::sha256_hex(artifact);
    const std::string artifact_rel = "artifacts/sha256/" + hash.substr(0, 2) + "/" + hash;
    fs::create_directories(fs::path(work / ("data/" + artifact_rel)).parent_path());
    write_file(work / ("data/" + artifact_rel), artifact);
    const backup_outcome b = backup_of(work / "src.db", work / "data", std::nullopt);
    BOOST_TEST_REQUIRE(b.ok(), b.message);

    restore_options o{b.location, work / "target/restored.db", work / "target-data", false, std::nullopt};
    const restore_result r = restore_backup(o);
    BOOST_TEST_REQUIRE(r.ok, r.message);
    BOOST_TEST(r.events == b.events);
    BOOST_TEST(r.last_offset == b.last_offset);
    BOOST_TEST(r.artifacts == 1u);
    BOOST_TEST(r.archive_bytes == b.bytes);
    BOOST_TEST((totals(work / "target/restored.db") == std::make_pair(b.events, b.last_offset)));
    BOOST_TEST(read_file(work / ("target-data/" + artifact_rel)) == artifact);
    // No temporary left; the lock file stays (persistence/database_lock.hpp).
    BOOST_TEST((list_dir(work / "target") == std::vector<std::string>{"restored.db", "restored.db.lock"}));
    BOOST_TEST((list_dir(work / "target-data") == std::vector<std::string>{"artifacts"}));

    // An existing database is refused and left alone, unless --force.
    add_events(persistence::open_database(work / "target/restored.db", false).get(), 5, 8);
    const auto before = totals(work / "target/restored.db");
    const restore_result refused = restore_backup(o);
    BOOST_TEST(!refused.ok);
    BOOST_TEST(refused.message.find("exists (use --force") != std::string::npos, refused.message);
    BOOST_TEST((totals(work / "target/restored.db") == before));

    // A live-looking WAL of the old database: SQLite would replay its frames
    // into the restored one if it were left beside it.
    {
        persistence::db_ptr old = persistence::open_database(work / "target/restored.db", false);
        persistence::exec(old.get(), "PRAGMA wal_autocheckpoint=0");
        add_events(old.get(), 500, 64);
        fs::copy_file(work / "target/restored.db-wal", work / "stale-wal");
    }
    fs::copy_file(work / "stale-wal", work / "target/restored.db-wal");
    o.force = true;
    const restore_result forced = restore_backup(o);
    BOOST_TEST_REQUIRE(forced.ok, forced.message);
    BOOST_TEST((totals(work / "target/restored.db") == std::make_pair(b.events, b.last_offset)));
}

BOOST_AUTO_TEST_CASE(s3_round_trip_and_a_missing_key) {
    shared_fixture& f = shared();
    temp_dir work;
    make_event_db(work / "src.db", 20000, 32);
    const backup_outcome b = backup_of(work / "src.db", work / "data", s3_at(f.s3.port()));
    BOOST_TEST_REQUIRE(b.ok(), b.message);

    s3_config creds = s3_at(f.s3.port(), "");  // the bucket comes from the URL
    const restore_result r = restore_backup({b.location, work / "restored.db", "", false, creds});
    BOOST_TEST_REQUIRE(r.ok, r.message);
    BOOST_TEST((totals(work / "restored.db") == std::make_pair(b.events, b.last_offset)));
    BOOST_TEST(r.events == 20000);

    const restore_result missing = restore_backup({"s3://bkt/no/such/key.tar.gz", work / "other.db", "", false, creds});
    BOOST_TEST(!missing.ok);
    BOOST_TEST(missing.message.find("NoSuchKey") != std::string::npos, missing.message);
    BOOST_TEST(!fs::exists(work / "other.db"));
    const restore_result no_creds = restore_backup({b.location, work / "other.db", "", false, std::nullopt});
    BOOST_TEST(!no_creds.ok);
    BOOST_TEST(no_creds.message.find("S3 is not configured") != std::string::npos, no_creds.message);
}

BOOST_AUTO_TEST_CASE(bad_tarballs_are_refused_and_leave_nothing) {
    temp_dir work;
    make_event_db(work / "src.db", 2000, 16);
    const backup_outcome b = backup_of(work / "src.db", work / "data", std::nullopt);
    BOOST_TEST_REQUIRE(b.ok(), b.message);
    const std::string good = read_file(b.location);
    std::string corrupt = good;
    corrupt[good.size() / 2] ^= 0x40;
    const std::string db_bytes = read_file(work / "src.db");
    const std::vector<std::pair<std::string, std::string>> db_only{{"observability.db", db_bytes}};
    std::string wrong_manifest = manifest_for(db_only);
    wrong_manifest.replace(wrong_manifest.find("\"sha256\":\"") + 10, 4, "0000");
    const std::vector<std::pair<std::string, std::string>> hostile{{"observability.db", db_bytes}, {"../evil", "x"}};
    const std::vector<std::pair<std::string, std::string>> unlisted{{"observability.db", db_bytes}, {"artifacts/a", "x"}};
    const std::vector<std::pair<std::string, std::string>> garbage{{"observability.db", std::string(8192, 'g')}};

    struct case_t {
        std::string what;
        std::string tarball;
        std::string reason;  // a part of the message
    };
    const case_t cases[] = {
        {"corrupt gzip", corrupt, "restore failed"},
        {"truncated", good.substr(0, good.size() / 2), "truncated"},
        {"not a tarball", "plain text", "gzip"},
        {"manifest sha256 mismatch", make_tarball(db_only, wrong_manifest), "sha256 mismatch for observability.db"},
        {"member not in the manifest", make_tarball(unlisted, manifest_for(db_only)), "does not list"},
        {"hostile member name", make_tarball(hostile, manifest_for(hostile)), "unexpected tar member ../evil"},
        {"no manifest", [&] {
             std::string out;
             gzip_compressor gz(1, [&](const char* d, std::size_t n) { out.append(d, n); });
             tar_writer tar([&](const char* d, std::size_t n) { gz.write(d, n); });
             tar.begin_member(tar_entry{"observability.db", db_bytes.size(), 0, 0644});
             tar.write(db_bytes.data(), db_bytes.size());
             tar.end_member();
             tar.finish();
             gz.finish();
             return out;
         }(), "no manifest.json"},
        {"database fails integrity_check", make_tarball(garbage, manifest_for(garbage)), "database"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            temp_dir target;
            write_file(target / "bad.tar.gz", c.tarball);
            fs::create_directories(target / "out");
            const restore_result r = restore_backup({target / "bad.tar.gz", target / "out/restored.db", "", false, std::nullopt});
            BOOST_TEST(!r.ok);
            BOOST_TEST(r.message.find(c.reason) != std::string::npos, r.message);
            // No database, no temporary: only the lock file, which stays, and
            // the (empty) default data folder beside the database.
            BOOST_TEST((list_dir(target / "out") ==
                        std::vector<std::string>{"observability-data", "restored.db.lock"}));
            BOOST_TEST(fs::is_empty(fs::path(target / "out") / "observability-data"));
            BOOST_TEST(!fs::exists(target / "evil"));
        }
    }
}

BOOST_AUTO_TEST_CASE(the_subcommand_parses_its_arguments) {
    temp_dir work;
    make_event_db(work / "src.db", 100, 8);
    const backup_outcome b = backup_of(work / "src.db", work / "data", std::nullopt);
    BOOST_TEST_REQUIRE(b.ok(), b.message);
    struct case_t {
        std::vector<std::string> args;
        int status;
    };
    const case_t cases[] = {
        {{}, 2},
        {{b.location}, 2},                                      // no --db
        {{"--db", work / "x.db"}, 2},                           // no source
        {{b.location, "--db", work / "x.db", "--bogus"}, 2},
        {{b.location, "--db", work / "a.db"}, 0},
        {{b.location, "--db=" + work / "a.db"}, 1},             // exists
        {{b.location, "--db=" + work / "a.db", "--force", "--data-dir", work / "d"}, 0},
        {{work / "missing.tar.gz", "--db", work / "m.db"}, 1},
    };
    for (const auto& c : cases) {
        std::string joined;
        for (const auto& a : c.args) joined += a + " ";
        BOOST_TEST_CONTEXT(joined) { BOOST_TEST(run_restore(c.args) == c.status); }
    }
    BOOST_TEST(totals(work / "a.db").first == 100);
}

BOOST_AUTO_TEST_SUITE_END()
