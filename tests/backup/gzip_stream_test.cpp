// Tests of backup/gzip_stream.cpp: compress/decompress round trips at each
// level fed in odd pieces, compatibility with gzip(1) both ways, and the
// errors of truncated, corrupt or over-long streams.
#include "backup/gzip_stream.hpp"

#include "support.hpp"

#include <boost/test/unit_test.hpp>

using namespace obs::backup;
using namespace obs::backup::test;

namespace {

std::string compress(const std::string& in, int level, std::size_t piece) {
    std::string out;
    gzip_compressor gz(level, [&](const char* d, std::size_t n) { out.append(d, n); });
    for (std::size_t at = 0; at < in.size(); at += piece) gz.write(in.data() + at, std::min(piece, in.size() - at));
    gz.finish();
    return out;
}

std::string decompress(const std::string& in, std::size_t piece) {
    std::string out;
    gunzip_decompressor gz([&](const char* d, std::size_t n) { out.append(d, n); });
    for (std::size_t at = 0; at < in.size(); at += piece) gz.write(in.data() + at, std::min(piece, in.size() - at));
    gz.finish();
    return out;
}

std::string text(std::size_t n) {
    std::string s;
    while (s.size() < n) s += R"({"offset":12345,"type":"tool_call","payload":{"tool":"search"}})";
    s.resize(n);
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(gzip_stream_suite)

BOOST_AUTO_TEST_CASE(round_trips) {
    struct case_t {
        std::string what;
        std::string data;
        int level;
        std::size_t piece;
    };
    const case_t cases[] = {
        {"empty", "", 1, 1},
        {"text level 1", text(300000), 1, 4093},
        {"text level 6", text(300000), 6, 65536},
        {"text level 9", text(300000), 9, 1},
        {"random level 0 (stored)", random_bytes(200000, 5), 0, 100000},
        {"random level 1", random_bytes(1 << 20, 6), 1, 777},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            const std::string packed = compress(c.data, c.level, c.piece);
            BOOST_TEST(static_cast<unsigned char>(packed[0]) == 0x1f);  // gzip magic
            BOOST_TEST(static_cast<unsigned char>(packed[1]) == 0x8b);
            BOOST_TEST((decompress(packed, c.piece) == c.data));
            BOOST_TEST((decompress(packed, 3) == c.data));
        }
    }
    // The level matters: text compresses much better at 9 than at 0.
    BOOST_TEST(compress(text(300000), 9, 65536).size() < compress(text(300000), 0, 65536).size() / 10);
}

BOOST_AUTO_TEST_CASE(gzip_tool_accepts_ours_and_we_read_its) {
    temp_dir dir;
    const std::string data = text(100000) + random_bytes(100000, 9);
    write_file(dir / "ours.gz", compress(data, 1, 8192));
    const command_result test = run_command("gzip -t " + shell_quote(dir / "ours.gz"));
    BOOST_TEST(test.status == 0, test.output);
    write_file(dir / "plain", data);
    BOOST_TEST(run_command("gzip -dc " + shell_quote(dir / "ours.gz") + " | cmp - " + shell_quote(dir / "plain")).status == 0);

    BOOST_TEST_REQUIRE(run_command("gzip -6 -k " + shell_quote(dir / "plain")).status == 0);
    BOOST_TEST((decompress(read_file(dir / "plain.gz"), 1000) == data));
}

BOOST_AUTO_TEST_CASE(bad_streams_are_errors) {
    const std::string good = compress(text(50000), 6, 50000);
    std::string corrupt = good;
    corrupt[good.size() / 2] ^= 0x55;
    std::string bad_crc = good;
    bad_crc[good.size() - 6] ^= 0x01;  // inside the trailer's CRC32
    struct case_t {
        std::string what;
        std::string data;
    };
    const case_t cases[] = {
        {"truncated", good.substr(0, good.size() - 10)},
        {"header only", good.substr(0, 10)},
        {"corrupt middle", corrupt},
        {"bad crc", bad_crc},
        {"trailing data", good + "junk"},
        {"not gzip", "plain text, not gzip at all"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what) { BOOST_CHECK_THROW(decompress(c.data, 1000), gzip_error); }
    }
    BOOST_CHECK_THROW(gzip_compressor(10, [](const char*, std::size_t) {}), gzip_error);
}

BOOST_AUTO_TEST_SUITE_END()
