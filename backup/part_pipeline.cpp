// The part pipeline between the backup worker and the S3 uploader; see
// part_pipeline.hpp.
#include "backup/part_pipeline.hpp"

#include "domain/sha256.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <memory>
#include <vector>

namespace obs::backup {

namespace asio = boost::asio;

// close() alone would leave a blocked sender waiting (it only completes
// waiting receivers); cancel() completes it with an error.
void stop_producing(archive_producer& producer, part_channel& channel) {
    producer.cancel();
    channel.close();
    channel.cancel();
}

asio::awaitable<upload_result> upload_parts(s3_client& s3, std::string key, part_channel& channel,
                                            archive_producer& producer) {
    upload_result u;
    // On every way out without success (an exception included) the worker
    // must be released, or it would block forever on a full channel.
    struct release_worker {
        const upload_result& u;
        part_channel& channel;
        archive_producer& producer;
        ~release_worker() {
            if (!u.ok) stop_producing(producer, channel);
        }
    } release{u, channel, producer};
    std::optional<std::string> upload_id;
    std::vector<std::string> etags;
    for (int part_number = 1;; ++part_number) {
        auto [ec, msg] = co_await channel.async_receive(asio::as_tuple(asio::use_awaitable));
        if (ec || msg.failed) break;
        auto body = std::make_shared<const std::string>(std::move(msg.data));
        if (part_number == 1 && msg.last) {
            auto r = co_await s3.put_object(key, body, std::move(msg.sha256));  // the whole archive fits one part
            if (r) u.ok = true;
            else u.s3 = r.error();
            break;
        }
        if (!upload_id) {
            auto r = co_await s3.create_multipart_upload(key);
            if (!r) {
                u.s3 = r.error();
                break;
            }
            upload_id = *r;
        }
        auto r = co_await s3.upload_part(key, *upload_id, part_number, body, std::move(msg.sha256));
        if (!r) {
            u.s3 = r.error();
            break;
        }
        etags.push_back(*r);
        if (msg.last) {
            auto c = co_await s3.complete_multipart_upload(key, *upload_id, etags);
            if (c) u.ok = true;
            else u.s3 = c.error();
            break;
        }
    }
    if (!u.ok) {
        stop_producing(producer, channel);
        // Leave no visible object and no parts billed: abort (best effort;
        // a lifecycle rule catches what an unreachable S3 leaves).
        if (upload_id) (void)co_await s3.abort_multipart_upload(key, *upload_id);
    }
    co_return u;
}

produce_result produce_parts(archive_producer& producer, part_channel& channel) {
    produce_result r;
    auto send = [&channel](part_message msg) {
        try {
            channel.async_send(boost::system::error_code{}, std::move(msg), asio::use_future).get();
            return true;
        } catch (const std::exception&) {
            return false;  // the uploader closed the channel: it gave up
        }
    };
    try {
        r.summary = producer.run([&](std::string part, bool last) {
            std::string digest = domain::sha256_hex(part);  // here, not on the io thread
            return send(part_message{std::move(part), std::move(digest), last, false});
        });
    } catch (const std::exception& e) {
        r.error = e.what();
        send(part_message{{}, {}, true, true});
    }
    return r;
}

}  // namespace obs::backup
