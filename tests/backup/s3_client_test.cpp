// Tests of backup/s3_client.cpp against a plain-asio listener that records
// what curl sends. Signatures are checked by recomputing AWS SigV4 here, from
// the request as S3 would see it (canonical request -> string to sign ->
// HMAC chain, HMAC-SHA256 written on domain::sha256 and checked against
// RFC 4231), so a header curl lists but does not send, an unsorted query or
// `?uploads` without `=` would fail. Also: S3 error documents, retries and
// their limits, streaming GetObject.
#include "backup/s3_client.hpp"

#include "domain/sha256.hpp"
#include "support.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <sstream>

using namespace obs::backup;
using namespace obs::backup::test;
namespace asio = boost::asio;
using obs::domain::sha256_hex;

namespace {

std::string raw_sha256(const std::string& s) {
    obs::domain::sha256 h;
    h.update(s);
    const auto d = h.finish();
    return std::string(d.begin(), d.end());
}

std::string hex(const std::string& bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

// HMAC-SHA256 (RFC 2104).
std::string hmac(std::string key, const std::string& message) {
    if (key.size() > 64) key = raw_sha256(key);
    key.resize(64, '\0');
    std::string inner(64, '\0'), outer(64, '\0');
    for (int i = 0; i < 64; ++i) {
        inner[i] = static_cast<char>(key[i] ^ 0x36);
        outer[i] = static_cast<char>(key[i] ^ 0x5c);
    }
    return raw_sha256(outer + raw_sha256(inner + message));
}

std::string signing_key(const std::string& secret, const std::string& date, const std::string& region,
                        const std::string& service) {
    return hmac(hmac(hmac(hmac("AWS4" + secret, date), region), service), "aws4_request");
}

std::string percent_decode(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

// The canonical query S3 computes from what it received: every parameter
// decoded, re-encoded, given '=' and sorted.
std::string canonical_query(const std::string& query) {
    std::vector<std::string> params;
    std::stringstream in(query);
    std::string p;
    while (std::getline(in, p, '&')) {
        if (p.empty()) continue;
        const auto eq = p.find('=');
        const std::string name = percent_decode(p.substr(0, eq));
        const std::string value = eq == std::string::npos ? "" : percent_decode(p.substr(eq + 1));
        params.push_back(uri_encode(name, false) + "=" + uri_encode(value, false));
    }
    std::sort(params.begin(), params.end());
    std::string out;
    for (const auto& x : params) out += (out.empty() ? "" : "&") + x;
    return out;
}

std::string between(const std::string& s, const std::string& from, const std::string& to) {
    const auto a = s.find(from);
    if (a == std::string::npos) return "";
    const auto b = s.find(to, a + from.size());
    return s.substr(a + from.size(), b == std::string::npos ? std::string::npos : b - a - from.size());
}

// Recomputes the request's SigV4 signature as S3 would and checks it.
void check_sigv4(const http_request& r, const std::string& key_id, const std::string& secret, const std::string& region,
                 const std::string& expected_path) {
    const std::string auth = r.headers.count("authorization") ? r.headers.at("authorization") : "";
    BOOST_TEST_REQUIRE(auth.rfind("AWS4-HMAC-SHA256 ", 0) == 0u, auth);
    const std::string credential = between(auth, "Credential=", ",");
    const std::string signed_headers = between(auth, "SignedHeaders=", ",");
    const std::string signature = between(auth, "Signature=", " ");
    const std::string amz_date = r.headers.count("x-amz-date") ? r.headers.at("x-amz-date") : "";
    BOOST_TEST_REQUIRE(amz_date.size() == 16u);
    const std::string date = amz_date.substr(0, 8);
    BOOST_TEST(credential == key_id + "/" + date + "/" + region + "/s3/aws4_request");

    // The payload hash is declared, matches the body, and is signed.
    BOOST_TEST_REQUIRE(r.headers.count("x-amz-content-sha256") == 1u);
    BOOST_TEST(r.headers.at("x-amz-content-sha256") == sha256_hex(r.body));

    std::string canonical_headers;
    std::vector<std::string> names;
    std::stringstream list(signed_headers);
    for (std::string name; std::getline(list, name, ';');) names.push_back(name);
    for (const char* must : {"host", "x-amz-date", "x-amz-content-sha256"}) {
        BOOST_TEST((std::find(names.begin(), names.end(), must) != names.end()), "signed headers lack " << must);
    }
    for (const auto& name : names) {
        // A header listed as signed must have been sent.
        BOOST_TEST_REQUIRE(r.headers.count(name) == 1u, "signed header not sent: " << name);
        canonical_headers += name + ":" + r.headers.at(name) + "\n";
    }
    const auto q = r.target.find('?');
    const std::string path = r.target.substr(0, q);
    BOOST_TEST(path == expected_path);
    const std::string query = q == std::string::npos ? "" : r.target.substr(q + 1);
    const std::string canonical_request = r.method + "\n" + path + "\n" + canonical_query(query) + "\n" +
                                          canonical_headers + "\n" + signed_headers + "\n" + sha256_hex(r.body);
    const std::string to_sign = "AWS4-HMAC-SHA256\n" + amz_date + "\n" + date + "/" + region + "/s3/aws4_request\n" +
                                sha256_hex(canonical_request);
    BOOST_TEST(signature == hex(hmac(signing_key(secret, date, region, "s3"), to_sign)));
}

s3_config config_for(const local_http_server& server, const std::string& token = "") {
    s3_config c;
    c.access_key_id = "AKIDEXAMPLE";
    c.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    c.session_token = token;
    c.region = "eu-west-3";
    c.endpoint = server.url();
    c.bucket = "bkt";
    c.path_style = true;
    return c;
}

// Answers each S3 operation as S3 does.
http_response fake_s3(const http_request& r) {
    const bool has_part = r.target.find("partNumber=") != std::string::npos;
    if (r.method == "POST" && r.target.find("?uploads") != std::string::npos) {
        return {200, "<InitiateMultipartUploadResult><UploadId>up/load+id=1</UploadId></InitiateMultipartUploadResult>", {}, false};
    }
    if (r.method == "PUT") return {200, "", {{"ETag", has_part ? "\"etag-part\"" : "\"etag-put\""}}, false};
    if (r.method == "POST") return {200, "<CompleteMultipartUploadResult><ETag>\"x-2\"</ETag></CompleteMultipartUploadResult>", {}, false};
    if (r.method == "DELETE") return {204, "", {}, false};
    return {200, "object-bytes", {}, false};
}

s3_client_options fast_retries() {
    s3_client_options o;
    o.backoff = std::chrono::milliseconds(5);
    return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(s3_client_suite)

BOOST_AUTO_TEST_CASE(hmac_matches_published_vectors) {
    // RFC 4231 test case 2, and the signing key of AWS's SigV4 documentation.
    BOOST_TEST(hex(hmac("Jefe", "what do ya want for nothing?")) ==
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    BOOST_TEST(hex(signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")) ==
               "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

BOOST_AUTO_TEST_CASE(every_operation_is_signed_correctly) {
    struct case_t {
        std::string what;
        std::string token;
        std::function<asio::awaitable<bool>(s3_client&)> call;
        std::string method;
        std::string query;  // as it must be sent
    };
    const std::string key = "observability/backups/a b+c.tar.gz";
    auto body = std::make_shared<const std::string>(random_bytes(3000, 21));
    const std::vector<std::string> etags{"\"a\"", "\"b\""};  // built outside: GCC 12 mishandles init-lists in coroutines
    const std::string body_hash = sha256_hex(*body);  // as the backup worker computes it
    const case_t cases[] = {
        {"PutObject", "", [&](s3_client& s) -> asio::awaitable<bool> { co_return (co_await s.put_object(key, body)).value() == "\"etag-put\""; }, "PUT", ""},
        {"PutObject with a session token", "TOKEN/with+chars==",
         [&](s3_client& s) -> asio::awaitable<bool> { co_return (co_await s.put_object(key, body)).has_value(); }, "PUT", ""},
        {"CreateMultipartUpload", "", [&](s3_client& s) -> asio::awaitable<bool> { co_return (co_await s.create_multipart_upload(key)).value() == "up/load+id=1"; }, "POST", "uploads="},
        {"UploadPart", "", [&](s3_client& s) -> asio::awaitable<bool> { co_return (co_await s.upload_part(key, "up/load+id=1", 12, body)).value() == "\"etag-part\""; }, "PUT", "partNumber=12&uploadId=up%2Fload%2Bid%3D1"},
        {"PutObject with the caller's hash", "", [&](s3_client& s) -> asio::awaitable<bool> { co_return (co_await s.put_object(key, body, body_hash)).has_value(); }, "PUT", ""},
        {"UploadPart with the caller's hash", "", [&](s3_client& s) -> asio::awaitable<bool> { co_return (co_await s.upload_part(key, "u2", 3, body, body_hash)).has_value(); }, "PUT", "partNumber=3&uploadId=u2"},
        {"CompleteMultipartUpload", "", [&](s3_client& s) -> asio::awaitable<bool> { co_return (co_await s.complete_multipart_upload(key, "u1", etags)).has_value(); }, "POST", "uploadId=u1"},
        {"AbortMultipartUpload", "", [&](s3_client& s) -> asio::awaitable<bool> { co_return (co_await s.abort_multipart_upload(key, "u1")).has_value(); }, "DELETE", "uploadId=u1"},
        {"DeleteObject", "", [&](s3_client& s) -> asio::awaitable<bool> { co_return (co_await s.delete_object(key)).has_value(); }, "DELETE", ""},
        {"DeleteObject with a session token", "TOKEN/with+chars==",
         [&](s3_client& s) -> asio::awaitable<bool> { co_return (co_await s.delete_object(key)).has_value(); }, "DELETE", ""},
        {"GetObject", "", [&](s3_client& s) -> asio::awaitable<bool> {
             std::string got;
             auto r = co_await s.get_object(key, [&](const char* d, std::size_t n) { got.append(d, n); });
             co_return r.has_value() && *r == 12u && got == "object-bytes";
         }, "GET", ""},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            asio::io_context io;
            local_http_server server(io, fake_s3);
            curl_multi http(io.get_executor());
            s3_client s3(http, config_for(server, c.token));
            BOOST_TEST(run_until_done(io, c.call(s3)));
            BOOST_TEST_REQUIRE(server.requests().size() == 1u);
            const http_request& r = server.requests()[0];
            BOOST_TEST(r.method == c.method);
            const auto q = r.target.find('?');
            BOOST_TEST((q == std::string::npos ? "" : r.target.substr(q + 1)) == c.query);
            check_sigv4(r, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "eu-west-3",
                        "/bkt/observability/backups/a%20b%2Bc.tar.gz");
            if (!c.token.empty()) BOOST_TEST(r.headers.at("x-amz-security-token") == c.token);
            else BOOST_TEST(r.headers.count("x-amz-security-token") == 0u);
            if (c.what == "CompleteMultipartUpload") {
                BOOST_TEST(r.body.find("<Part><PartNumber>2</PartNumber><ETag>\"b\"</ETag></Part>") != std::string::npos);
            }
            if (c.what.rfind("UploadPart", 0) == 0 || c.what.rfind("PutObject", 0) == 0) BOOST_TEST((r.body == *body));
        }
    }
}

BOOST_AUTO_TEST_CASE(error_documents) {
    struct case_t {
        long status;
        std::string body;
        std::string code;
        std::string message;
        bool retryable;
    };
    const case_t cases[] = {
        {404, "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>",
         "NoSuchBucket", "The specified bucket does not exist", false},
        {403, "<Error><Code>SignatureDoesNotMatch</Code><Message>a &lt;b&gt; &amp; &quot;c&quot;</Message></Error>",
         "SignatureDoesNotMatch", "a <b> & \"c\"", false},
        {503, "<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>", "SlowDown",
         "Reduce your request rate.", true},
        {400, "<Error><Code>RequestTimeout</Code></Error>", "RequestTimeout", "", true},
        {502, "", "HTTP502", "", true},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.code) {
            const s3_error e = parse_s3_error(c.status, c.body);
            BOOST_TEST(e.code == c.code);
            BOOST_TEST(e.message == c.message);
            BOOST_TEST(e.retryable() == c.retryable);
            BOOST_TEST(e.describe().find(c.code) != std::string::npos);
            BOOST_TEST(e.describe().find(std::to_string(c.status)) != std::string::npos);
        }
    }
    BOOST_TEST(s3_error({0, "Unreachable", "Connection refused"}).retryable());
    BOOST_TEST(xml_text("<a><UploadId>x&amp;y</UploadId></a>", "UploadId") == "x&y");
    BOOST_TEST(xml_text("<a></a>", "UploadId") == "");
}

BOOST_AUTO_TEST_CASE(retries_and_their_limits) {
    struct case_t {
        std::string what;
        int failures;        // answers with `status` before succeeding
        int status;
        std::string code;
        bool ok;
        std::size_t requests;
    };
    const case_t cases[] = {
        {"two 500s then success", 2, 500, "InternalError", true, 3},
        {"503 SlowDown every time", 99, 503, "SlowDown", false, 3},
        {"403 is final", 99, 403, "AccessDenied", false, 1},
        {"404 is final", 99, 404, "NoSuchUpload", false, 1},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            asio::io_context io;
            int seen = 0;
            local_http_server server(io, [&](const http_request& r) {
                if (seen++ < c.failures) {
                    return http_response{c.status, "<Error><Code>" + c.code + "</Code><Message>m</Message></Error>", {}, false};
                }
                return fake_s3(r);
            });
            curl_multi http(io.get_executor());
            s3_client s3(http, config_for(server), fast_retries());
            auto body = std::make_shared<const std::string>("part");
            const auto r = run_until_done(io, s3.upload_part("k", "u", 1, body));
            BOOST_TEST(r.has_value() == c.ok);
            if (!r) {
                BOOST_TEST(r.error().code == c.code);
                BOOST_TEST(r.error().http_status == c.status);
            }
            BOOST_TEST(server.requests().size() == c.requests);
        }
    }
}

BOOST_AUTO_TEST_CASE(failures_reported_as_s3_errors) {
    asio::io_context io;
    local_http_server server(io, [](const http_request& r) {
        if (r.method == "POST") {  // S3 may fail a Complete with 200 and an error document
            return http_response{200, "<Error><Code>InternalError</Code><Message>We encountered an internal error</Message></Error>", {}, false};
        }
        return http_response{404, "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>", {}, false};
    });
    curl_multi http(io.get_executor());
    s3_client s3(http, config_for(server), fast_retries());
    const auto complete = run_until_done(io, s3.complete_multipart_upload("k", "u", std::vector<std::string>{"\"e\""}));
    BOOST_TEST_REQUIRE(!complete.has_value());
    BOOST_TEST(complete.error().code == "InternalError");

    bool sink_called = false;
    const auto get = run_until_done(io, s3.get_object("k", [&](const char*, std::size_t) { sink_called = true; }));
    BOOST_TEST_REQUIRE(!get.has_value());
    BOOST_TEST(get.error().code == "NoSuchKey");
    BOOST_TEST(get.error().http_status == 404);
    BOOST_TEST(!sink_called);  // an error document is not the object

    s3_config unreachable = config_for(server);
    unreachable.endpoint = "http://127.0.0.1:" + std::to_string(free_port());
    s3_client down(http, unreachable, fast_retries());
    const auto put = run_until_done(io, down.put_object("k", std::make_shared<const std::string>("x")));
    BOOST_TEST_REQUIRE(!put.has_value());
    BOOST_TEST(put.error().http_status == 0);
    BOOST_TEST(put.error().code == "Unreachable");
    BOOST_TEST(put.error().describe().find("S3 cannot be reached (Unreachable): ") == 0u);
}

BOOST_AUTO_TEST_CASE(a_throwing_sink_stops_the_download) {
    asio::io_context io;
    local_http_server server(io, [](const http_request&) { return http_response{200, std::string(100000, 'z'), {}, false}; });
    curl_multi http(io.get_executor());
    s3_client s3(http, config_for(server));
    BOOST_CHECK_THROW(run_until_done(io, s3.get_object("k", [](const char*, std::size_t) { throw std::runtime_error("disk full"); })),
                      std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()
