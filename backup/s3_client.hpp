// The S3 operations backups and restores need, on curl_multi (io thread):
// PutObject, the multipart upload (Create, UploadPart, Complete, Abort), a
// streaming GetObject and DeleteObject (backup rotation). Requests are signed by libcurl (CURLOPT_AWS_SIGV4,
// "aws:amz:REGION:s3") with these curl 7.88 pitfalls handled here:
// `x-amz-content-sha256` is always sent (the payload's sha256), bodies are
// sent as POSTFIELDS so curl hashes the same bytes, query strings are written
// already sorted and with `=` (`?uploads=`, `?partNumber=N&uploadId=X`), and
// no header is ever blanked (curl would still list it as signed).
//
// Executor: the curl_multi's. Not thread-safe.
#pragma once

#include "backup/curl_multi.hpp"
#include "backup/s3_config.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace obs::backup {

// Why an S3 request failed.
struct s3_error {
    long http_status = 0;  // 0: no response (connection refused, timeout, ...)
    std::string code;      // S3's <Code> ("NoSuchBucket"), or "Unreachable" for transport errors
    std::string message;   // S3's <Message>, or curl's error text
    // True for errors worth another try: no response, 5xx, 429, RequestTimeout, SlowDown.
    bool retryable() const;
    // "S3 NoSuchBucket (HTTP 404): The specified bucket does not exist", or
    // "S3 cannot be reached (Unreachable): Failed to connect to ...".
    std::string describe() const;
};

// Lets boost::system::result<T, s3_error>::value() throw.
[[noreturn]] void throw_exception_from_error(const s3_error& e, const boost::source_location& loc);

template <class T>
using s3_result = boost::system::result<T, s3_error>;

// The <Code> and <Message> of an S3 error document (entities decoded);
// empty code when the body holds none (the caller then names the status).
s3_error parse_s3_error(long http_status, std::string_view body);

// The text of the first <tag>...</tag> in `xml`, entities decoded; "" when absent.
std::string xml_text(std::string_view xml, std::string_view tag);

// The CompleteMultipartUpload body for parts 1..n with these ETags.
std::string complete_multipart_body(const std::vector<std::string>& etags);

struct s3_client_options {
    int tries = 3;                                    // attempts per request (retryable errors only)
    std::chrono::milliseconds backoff{200};           // first wait between tries; doubles each time
    std::chrono::milliseconds connect_timeout{10000}; // CURLOPT_CONNECTTIMEOUT_MS
    std::chrono::seconds stall_timeout{60};           // abort when under 1 byte/s for this long
};

// Bytes of a body that must outlive the request: shared so that retries and
// the caller can hold them without copies.
using shared_body = std::shared_ptr<const std::string>;

class s3_client {
public:
    // REQUIRES: `http` outlives this client.
    s3_client(curl_multi& http, s3_config config, s3_client_options options = {});

    // PutObject: the whole object in one request. Returns its ETag.
    // `body_sha256` is the body's lower-case hex SHA-256 when the caller has
    // it (hashed off the io thread); empty: hashed here, on the io thread.
    boost::asio::awaitable<s3_result<std::string>> put_object(std::string key, shared_body body,
                                                              std::string body_sha256 = {});

    // CreateMultipartUpload (POST ?uploads=). Returns the upload id.
    boost::asio::awaitable<s3_result<std::string>> create_multipart_upload(std::string key);

    // UploadPart (PUT ?partNumber=N&uploadId=X), retried. Returns the ETag.
    // `body_sha256` as for put_object.
    boost::asio::awaitable<s3_result<std::string>> upload_part(std::string key, std::string upload_id,
                                                               int part_number, shared_body body,
                                                               std::string body_sha256 = {});

    // CompleteMultipartUpload (POST ?uploadId=X) with the parts' ETags in
    // order. An error document in a 200 answer is an error too.
    boost::asio::awaitable<s3_result<void>> complete_multipart_upload(std::string key, std::string upload_id,
                                                                      std::vector<std::string> etags);

    // AbortMultipartUpload (DELETE ?uploadId=X): the parts are discarded.
    boost::asio::awaitable<s3_result<void>> abort_multipart_upload(std::string key, std::string upload_id);

    // GetObject, the body streamed to `sink` as it arrives (on the io
    // thread). A sink that throws stops the download; the exception is
    // rethrown from here. Not retried. Returns the object's size.
    boost::asio::awaitable<s3_result<std::uint64_t>> get_object(
        std::string key, std::function<void(const char* data, std::size_t n)> sink);

    // DeleteObject (DELETE on the key), retried: it is idempotent. S3
    // answers 204 whether or not the key existed, so a key deleted earlier
    // (by hand, or by a rotation whose mark was lost) is not an error.
    boost::asio::awaitable<s3_result<void>> delete_object(std::string key);

    const s3_config& config() const noexcept { return config_; }

private:
    struct request;
    struct response;
    boost::asio::awaitable<s3_result<response>> send_(request req);
    boost::asio::awaitable<s3_result<response>> send_once_(const request& req);

    curl_multi& http_;
    s3_config config_;
    s3_client_options options_;
};

}  // namespace obs::backup
