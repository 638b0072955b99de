// Tests of cmake/embed.cmake's obs_embed_files on a fixture folder embedded
// into this test (fixture_embedded.hpp): nested paths under BASE_DIR, an
// empty file, a file gzip cannot shrink (left without a gzip copy), the
// content types, the ETag and the lookup by exact path.
#include "fixture_embedded.hpp"

#include "domain/sha256.hpp"
#include "tests/web/gunzip.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace fs = std::filesystem;

namespace {

std::string read_fixture(const char* rel) {
    std::ifstream in(fs::path(OBS_EMBED_FIXTURE_DIR) / rel, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(embed_suite)

struct fixture_case {
    const char* rel;           // path under embed_fixture/
    const char* content_type;  // expected
    bool gzipped;              // a gzip copy is kept
};

BOOST_AUTO_TEST_CASE(each_fixture_file_is_embedded_as_the_function_promises) {
    const fixture_case cases[] = {
        {"empty.txt", "text/plain; charset=utf-8", false},
        {"noise.png", "image/png", false},
        {"sub/data.json", "application/json; charset=utf-8", false},  // too short to shrink
        {"sub/repeat.txt", "text/plain; charset=utf-8", true},
    };
    BOOST_TEST(obs::test_embed::embedded_files().size() == std::size(cases));
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("fixture " << c.rel) {
            const std::string url = std::string("/fixture/") + c.rel;
            const auto* f = obs::test_embed::find_embedded_file(url);
            BOOST_TEST_REQUIRE(f != nullptr);
            const std::string bytes = read_fixture(c.rel);
            BOOST_TEST(f->path == url);
            BOOST_TEST(f->body == bytes);
            BOOST_TEST(f->content_type == c.content_type);
            BOOST_TEST(f->etag == "\"" + obs::domain::sha256_hex(bytes) + "\"");
            BOOST_TEST(f->gzip_body.empty() == !c.gzipped);
        }
    }
}

BOOST_AUTO_TEST_CASE(gzip_copies_inflate_to_the_body_and_carry_a_zero_mtime) {
    // The gzip header's MTIME bytes are zeroed so equal inputs give equal
    // generated sources (and ccache hits).
    const auto files = obs::test_embed::embedded_files();
    BOOST_TEST(std::is_sorted(files.begin(), files.end(),
                              [](const auto& a, const auto& b) { return a.path < b.path; }));
    int gzipped = 0;
    for (const auto& f : files) {
        if (f.gzip_body.empty()) continue;
        ++gzipped;
        BOOST_TEST_CONTEXT("fixture " << f.path) {
            BOOST_TEST(f.gzip_body.size() < f.body.size());
            BOOST_TEST(f.gzip_body.substr(4, 4) == std::string_view("\0\0\0\0", 4));
            auto inflated = obs::test::gunzip(f.gzip_body);
            BOOST_TEST_REQUIRE(inflated.has_value());
            BOOST_TEST(*inflated == f.body);
        }
    }
    BOOST_TEST(gzipped == 1);
}

BOOST_AUTO_TEST_CASE(lookup_is_by_exact_path) {
    const char* misses[] = {"/fixture/", "/fixture/sub", "/fixture/data.json", "fixture/empty.txt",
                            "/fixture/EMPTY.txt", "/fixture/empty.txt ", "/fixtures/empty.txt"};
    for (const char* m : misses) {
        BOOST_TEST_CONTEXT("path '" << m << "'") { BOOST_TEST(obs::test_embed::find_embedded_file(m) == nullptr); }
    }
}

BOOST_AUTO_TEST_SUITE_END()
