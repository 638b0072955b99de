// Tests of server/web/web_assets.cpp against the files on disk: every file
// of server/web/assets is found at /ui/NAME with exactly its bytes, the
// Content-Type its extension calls for, a strong ETag equal to its SHA-256,
// and a gzip copy that inflates to the body; "/" is index.html; paths that
// are not an asset's exact URL find nothing.
#include "server/web/web_assets.hpp"

#include "domain/sha256.hpp"
#include "tests/web/gunzip.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

namespace fs = std::filesystem;
using obs::web::find_web_asset;
using obs::web::web_asset;

namespace {

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(web_assets_suite)

BOOST_AUTO_TEST_CASE(every_file_on_disk_is_served_with_its_bytes_etag_and_gzip) {
    std::set<std::string> on_disk;
    for (const auto& entry : fs::directory_iterator(OBS_WEB_ASSET_DIR)) {
        if (!entry.is_regular_file()) continue;
        const std::string name = entry.path().filename().string();
        on_disk.insert("/ui/" + name);
        BOOST_TEST_CONTEXT("asset " << name) {
            const web_asset* a = find_web_asset("/ui/" + name);
            BOOST_TEST_REQUIRE(a != nullptr);
            const std::string bytes = read_file(entry.path());
            BOOST_TEST(a->body == bytes);
            BOOST_TEST(a->etag == "\"" + obs::domain::sha256_hex(bytes) + "\"");
            // text assets compress; the page's are all text
            BOOST_TEST_REQUIRE(!a->gzip_body.empty());
            BOOST_TEST(a->gzip_body.size() < a->body.size());
            auto inflated = obs::test::gunzip(a->gzip_body);
            BOOST_TEST_REQUIRE(inflated.has_value());
            BOOST_TEST(*inflated == bytes);
        }
    }
    BOOST_TEST(on_disk.count("/ui/index.html") == 1u);
    std::set<std::string> embedded;
    for (const auto& a : obs::web::web_assets()) embedded.insert(std::string(a.path));
    BOOST_TEST(embedded == on_disk, "the embedded set is exactly the folder's files");
}

BOOST_AUTO_TEST_CASE(content_types_follow_the_extension) {
    for (const auto& a : obs::web::web_assets()) {
        BOOST_TEST_CONTEXT("asset " << a.path) {
            if (a.path.ends_with(".html")) BOOST_TEST(a.content_type == "text/html; charset=utf-8");
            else if (a.path.ends_with(".js")) BOOST_TEST(a.content_type == "text/javascript; charset=utf-8");
            else if (a.path.ends_with(".css")) BOOST_TEST(a.content_type == "text/css; charset=utf-8");
            else BOOST_TEST(a.content_type != "application/octet-stream");
        }
    }
}

BOOST_AUTO_TEST_CASE(root_is_index_and_the_lookup_is_stable) {
    const web_asset* root = find_web_asset("/");
    BOOST_TEST_REQUIRE(root != nullptr);
    BOOST_TEST(root == find_web_asset("/ui/index.html"));
    BOOST_TEST(root == find_web_asset("/index.html"));
    BOOST_TEST(root == find_web_asset("/?run=1"));
    BOOST_TEST(root->body.find("<script type=\"module\"") != std::string_view::npos);
    // the same pointer (and so the same ETag) on every call
    const web_asset* app = find_web_asset("/ui/app.js");
    BOOST_TEST_REQUIRE(app != nullptr);
    BOOST_TEST(app == find_web_asset("/ui/app.js?v=2"));
    BOOST_TEST(app->etag == find_web_asset("/ui/app.js")->etag);
    BOOST_TEST(app->etag.size() == 66u);  // quotes + 64 hex digits
}

BOOST_AUTO_TEST_CASE(paths_that_are_no_asset_find_nothing) {
    const char* cases[] = {
        "", "/ui", "/ui/", "/ui//app.js", "//ui/app.js", "/UI/app.js", "/ui/APP.JS", "/ui/app.js/",
        "/ui/../CMakeLists.txt", "/ui/%61pp.js", "/app.js", "/ui/app", "/observability/runs",
        "/ui/nope.js", "index.html", "/ui/index.html/.."};
    for (const char* c : cases) {
        BOOST_TEST_CONTEXT("path '" << c << "'") { BOOST_TEST(find_web_asset(c) == nullptr); }
    }
    BOOST_TEST(find_web_asset(std::string_view("/ui/app.js\0x", 12)) == nullptr);
}

BOOST_AUTO_TEST_CASE(if_none_match_is_compared_weakly_over_the_list) {
    const std::string_view etag = "\"abc\"";
    struct row { const char* header; bool hit; };
    const row rows[] = {
        {"\"abc\"", true}, {"W/\"abc\"", true}, {"*", true}, {" \"x\" , \"abc\" ", true}, {"\"x\",W/\"abc\"", true},
        {"", false}, {"\"abcd\"", false}, {"abc", false}, {"\"ABC\"", false}, {"\"x\", \"y\"", false}, {",,", false},
        {"w/\"abc\"", false},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT("If-None-Match: " << r.header) { BOOST_TEST(obs::web::if_none_match_hits(r.header, etag) == r.hit); }
    }
}

BOOST_AUTO_TEST_CASE(accept_encoding_gzip_follows_q_values) {
    struct row { const char* header; bool gzip; };
    const row rows[] = {
        {"gzip", true}, {"gzip, deflate, br", true}, {"br;q=1.0, GZIP;q=0.5", true}, {"*", true}, {"x-gzip", true},
        {"deflate, gzip;q=0.001", true}, {"identity, *;q=0.1", true},
        {"", false}, {"br", false}, {"gzip;q=0", false}, {"gzip; q=0.000", false}, {"gzip;q=0, *", false},
        {"*;q=0", false}, {"gzipx", false}, {"identity", false},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT("Accept-Encoding: " << r.header) { BOOST_TEST(obs::web::accepts_gzip(r.header) == r.gzip); }
    }
}

BOOST_AUTO_TEST_CASE(the_page_stays_within_its_budget) {
    std::size_t total = 0;
    for (const auto& a : obs::web::web_assets()) total += a.body.size();
    BOOST_TEST_MESSAGE("web page: " << total << " bytes uncompressed");
    BOOST_TEST(total <= 150u * 1024u);
}

BOOST_AUTO_TEST_SUITE_END()
