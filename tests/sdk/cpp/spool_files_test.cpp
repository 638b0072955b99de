// The spool's segment files themselves (sdk/cpp/src/spool.hpp), with small
// segments so that a few thousand records cross many of them, in both ways of
// writing (mapped segments, and the pwrite(2) fallback): records come back
// whole and in order across segments, whether the background thread's upkeep
// ran or not; a process SIGKILLed mid-spool leaves segment files (zero-padded
// when mapped) that a new spool reads back exactly; torn records are skipped;
// files are cut to their records; a full disk (a file size limit here) refuses
// records without leaving a torn line; the byte bound drops.
#include "sdk_support.hpp"
#include "spool.hpp"

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <fstream>
#include <mutex>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace e2e = obs::e2e;
using obs::sdk_test::segment_files;
using observability::detail::spool;
using observability::detail::spool_options;
using observability::detail::spool_position;
using observability::detail::spool_record;

BOOST_AUTO_TEST_SUITE(sdk_cpp_spool_files)

namespace {

constexpr std::uint64_t small_segment = 64u << 10;

spool_options small(bool mapped) {
    return {.max_bytes = std::uint64_t{1} << 30, .segment_bytes = small_segment, .map_segments = mapped};
}

// Record i: a line of 100 to 400 bytes that names i, so any loss, repeat or
// reordering shows.
std::string record(int i) {
    const auto pad = static_cast<std::size_t>(80 + i * 37 % 300);
    return "{\"i\":" + std::to_string(i) + ",\"pad\":\"" + std::string(pad, 'x') +
           "\"}\n";
}

// Everything from `from` to the spool's end, in order.
std::vector<spool_record> read_all(const spool& s, spool_position from) {
    std::vector<spool_record> out;
    const auto until = s.end();
    while (!(from == until)) {
        const auto before = out.size();
        from = s.read_records(from, until, 100, out);
        if (out.size() == before) break;
    }
    return out;
}

void expect_records(const std::vector<spool_record>& got, int n) {
    BOOST_REQUIRE_EQUAL(got.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        const auto want = record(i);
        BOOST_TEST(got[static_cast<std::size_t>(i)].line == want.substr(0, want.size() - 1));
    }
}

const char* mode_name(bool mapped) { return mapped ? "mapped segments" : "pwrite segments"; }

void write_file(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

}  // namespace

BOOST_AUTO_TEST_CASE(records_cross_segments_in_order_with_and_without_upkeep) {
    for (const bool mapped : {true, false})
        for (const bool with_upkeep : {true, false})
            BOOST_TEST_CONTEXT(mode_name(mapped) << (with_upkeep ? ", upkeep" : ", no upkeep")) {
                e2e::temp_dir dir;
                constexpr int n = 3000;  // about 750 KiB: a dozen segments
                std::mutex mu;
                std::unique_lock lock(mu);
                std::vector<std::uint64_t> segment_of;
                {
                    spool s(dir.path(), small(mapped));
                    bool asked = false;
                    for (int i = 0; i < n; ++i) {
                        const auto segment = s.append(record(i), asked);
                        BOOST_REQUIRE(segment != 0u);
                        segment_of.push_back(segment);
                        if (with_upkeep && asked) {
                            s.upkeep(lock);
                            asked = false;
                        }
                    }
                    BOOST_TEST(segment_of.back() - segment_of.front() >= 10u);
                    expect_records(read_all(s, s.start()), n);
                    // All acknowledged: every sealed segment is removable, the current
                    // one goes with the spool.
                    for (const auto segment : segment_of) s.acknowledge(segment);
                    const auto removable = s.take_removable();
                    BOOST_TEST(removable.size() == static_cast<std::size_t>(segment_of.back() - segment_of.front()));
                    for (const auto& path : removable) std::filesystem::remove(path);
                    s.upkeep(lock);
            }
            BOOST_TEST(segment_files(dir.path()).empty());
            }
}

BOOST_AUTO_TEST_CASE(a_spool_killed_mid_write_is_read_back_exactly) {
    for (const bool mapped : {true, false})
        BOOST_TEST_CONTEXT(mode_name(mapped)) {
            e2e::temp_dir dir;
            constexpr int n = 2500;
            const pid_t pid = ::fork();
            BOOST_REQUIRE(pid >= 0);
            if (pid == 0) {
                // The agent: appends, with the upkeep now and then, and is killed
                // without any destructor running.
                std::mutex mu;
                std::unique_lock lock(mu);
                spool s(dir.path(), small(mapped));
                bool asked = false;
                for (int i = 0; i < n; ++i) {
                    if (s.append(record(i), asked) == 0) ::_exit(3);
                    if (i % 500 == 0 && asked) {
                        s.upkeep(lock);
                        asked = false;
                    }
                }
                ::raise(SIGKILL);
        }
        int status = 0;
        ::waitpid(pid, &status, 0);
        BOOST_REQUIRE(WIFSIGNALED(status));
        if (mapped) {  // the current segment is still at its reserved size
            bool padded = false;
            for (const auto& path : segment_files(dir.path()))
                padded |= std::filesystem::file_size(path) == small_segment;
            BOOST_TEST(padded);
        }
        spool s(dir.path(), small(mapped));
        BOOST_TEST(s.leftover_records() == static_cast<std::uint64_t>(n));
        expect_records(read_all(s, s.start()), n);
        // What was found is cut to its records: the bytes of the segments left
        // are exactly the records' bytes.
        std::uint64_t record_bytes = 0;
        for (int i = 0; i < n; ++i) record_bytes += record(i).size();
        BOOST_TEST(s.bytes() == record_bytes);
        std::uint64_t on_disk = 0;
        for (const auto& path : segment_files(dir.path())) on_disk += std::filesystem::file_size(path);
        BOOST_TEST(on_disk <= record_bytes + 2 * small_segment);  // plus the new current and next segments
        }
}

struct torn_case {
    const char* name;
    std::string bytes;  // of the one segment an earlier spool left
    std::vector<std::string> lines;
};

const torn_case torn_cases[] = {
    {"complete lines", "{\"a\":1}\n{\"b\":2}\n", {"{\"a\":1}", "{\"b\":2}"}},
    {"a head without its newline", "{\"a\":1}\n{\"b\":", {"{\"a\":1}"}},
    {"a head, then the zeros of a mapped segment", "{\"a\":1}\n{\"b\":" + std::string(300, '\0'), {"{\"a\":1}"}},
    {"a tail copied before its head", "{\"a\":1}\n" + std::string(5, '\0') + "2}\n" + std::string(100, '\0'),
     {"{\"a\":1}"}},
    {"zeros only (made ahead, never written)", std::string(4096, '\0'), {}},
    {"empty lines are not records", "\n{\"a\":1}\n\n", {"{\"a\":1}"}},
};

BOOST_AUTO_TEST_CASE(torn_records_are_skipped_at_start_up) {
    for (const auto& c : torn_cases)
        BOOST_TEST_CONTEXT(c.name) {
            e2e::temp_dir dir;
            write_file(dir.path() / "segment-0000000000000007.ndjson", c.bytes);
            spool s(dir.path(), small(true));
            BOOST_TEST(s.leftover_records() == c.lines.size());
            std::vector<spool_record> got = read_all(s, s.start());
            BOOST_REQUIRE_EQUAL(got.size(), c.lines.size());
            for (std::size_t i = 0; i < got.size(); ++i) BOOST_TEST(got[i].line == c.lines[i]);
            // Later segments take later ids, after even the one that held nothing.
            BOOST_TEST(s.end().segment > 7u);
        }
}

BOOST_AUTO_TEST_CASE(files_are_cut_to_their_records) {
    for (const bool mapped : {true, false})
        BOOST_TEST_CONTEXT(mode_name(mapped)) {
            e2e::temp_dir dir;
            std::mutex mu;
            std::unique_lock lock(mu);
            std::uint64_t written = 0;
            std::uint64_t last_segment = 0;
            {
                spool s(dir.path(), small(mapped));
                bool asked = false;
                for (int i = 0; i < 600; ++i) {
                    last_segment = s.append(record(i), asked);
                    written += record(i).size();
                }
                s.upkeep(lock);  // lets go of the sealed ones
        }
        // Nothing acknowledged: every segment stays, each no larger than its
        // records, and the made-ahead one is gone.
        std::uint64_t on_disk = 0;
        const auto files = segment_files(dir.path());
        for (const auto& path : files) on_disk += std::filesystem::file_size(path);
        BOOST_TEST(on_disk == written);
        BOOST_TEST(files.back() == spool(dir.path(), small(mapped)).segment_path(last_segment));
        }
}

// A file size limit (RLIMIT_FSIZE) stands in for a full disk: fallocate is
// refused, so the segment is written with pwrite(2), and the write that
// crosses the limit fails part-way. What the spool accepted (reported over a
// pipe, which the limit does not touch) is read back exactly, with nothing of
// the refused records in between.
BOOST_AUTO_TEST_CASE(a_full_disk_refuses_records_and_leaves_no_torn_line) {
    e2e::temp_dir dir;
    constexpr int n = 400;                    // about 100 KiB of records
    constexpr rlim_t file_limit = 50000;      // bytes
    int out[2];
    BOOST_REQUIRE(::pipe(out) == 0);
    const pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(out[0]);
        std::signal(SIGXFSZ, SIG_IGN);  // the write fails with EFBIG instead
        const rlimit limit{file_limit, file_limit};
        if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(3);
        spool s(dir.path(), {.max_bytes = std::uint64_t{1} << 30, .segment_bytes = 128u << 10, .map_segments = true});
        bool asked = false;
        std::string accepted;
        for (int i = 0; i < n; ++i)
            if (s.append(record(i), asked) != 0) accepted += std::to_string(i) + "\n";
        if (::write(out[1], accepted.data(), accepted.size()) != static_cast<ssize_t>(accepted.size())) ::_exit(4);
        ::raise(SIGKILL);
    }
    ::close(out[1]);
    std::string said;
    char buffer[4096];
    for (ssize_t got; (got = ::read(out[0], buffer, sizeof buffer)) > 0;)
        said.append(buffer, static_cast<std::size_t>(got));
    ::close(out[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    BOOST_REQUIRE(WIFSIGNALED(status));
    std::vector<int> accepted;
    std::uint64_t accepted_bytes = 0;
    for (std::size_t pos = 0, nl; (nl = said.find('\n', pos)) != std::string::npos; pos = nl + 1) {
        accepted.push_back(std::stoi(said.substr(pos, nl - pos)));
        accepted_bytes += record(accepted.back()).size();
    }
    BOOST_TEST(accepted.size() > 10u);
    BOOST_TEST(accepted.size() < static_cast<std::size_t>(n));
    BOOST_TEST(accepted_bytes <= file_limit);

    spool s(dir.path(), small(true));
    const auto got = read_all(s, s.start());
    BOOST_REQUIRE_EQUAL(got.size(), accepted.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        const auto want = record(accepted[i]);
        BOOST_TEST(got[i].line == want.substr(0, want.size() - 1));
    }
    BOOST_TEST(s.bytes() == accepted_bytes);
}

BOOST_AUTO_TEST_CASE(past_max_bytes_records_are_refused) {
    e2e::temp_dir dir;
    spool s(dir.path(), {.max_bytes = 1000, .segment_bytes = small_segment, .map_segments = true});
    bool asked = false;
    const std::string line(300, 'x');
    int kept = 0;
    for (int i = 0; i < 10; ++i) kept += s.append(line + "\n", asked) != 0 ? 1 : 0;
    BOOST_TEST(kept == 3);
    BOOST_TEST(s.bytes() == 3 * 301u);
}

BOOST_AUTO_TEST_SUITE_END()
