// The stream benchmark's listeners: see stream_listeners.hpp. Each listener
// keeps one read pending into its own buffer; the arrival time is stamped
// once per read rather than once per frame.
#include "tests/bench/stream_listeners.hpp"

#include "domain/time.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>
#include <utility>

namespace obs::bench {

namespace asio = boost::asio;

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

namespace {

// The server's receive time of the event in a frame's data line, as Unix ms.
std::optional<std::int64_t> received_at_of(std::string_view data) {
    static constexpr std::string_view key = R"("received_at":")";
    const auto at = data.find(key);
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    const auto start = at + key.size();
    const auto end = data.find('"', start);
    if (end == std::string_view::npos) {
        return std::nullopt;
    }
    return domain::parse_rfc3339(data.substr(start, end - start));
}

}  // namespace

struct stream_listeners::connection {
    connection(asio::io_context& io, std::size_t buffer_bytes, listener_record& record,
               std::vector<server_receipt>* receipts)
        : socket(io), buffer(buffer_bytes) {
        handlers.on_event = [this, &record](std::int64_t offset) {
            record.deliveries.push_back(delivery{offset, 0});  // stamped by on_read
            last_offset = std::max(last_offset, offset);
        };
        if (receipts != nullptr) {
            handlers.on_data = [receipts](std::int64_t offset, std::string_view data) {
                if (const auto ms = received_at_of(data)) {
                    receipts->push_back(server_receipt{offset, *ms});
                }
            };
        }
    }

    asio::ip::tcp::socket socket;
    std::vector<char> buffer;  // the pending read's; one per listener since reads overlap
    sse_handlers handlers;
    sse_scanner scanner;
    std::int64_t last_offset = -1;  // the highest offset received
    bool streaming = false;         // counted in streaming_
    bool caught_up = false;         // counted in caught_up_
    bool closed = false;
};

stream_listeners::stream_listeners(asio::io_context& io, options opts)
    : io_(io), opts_(std::move(opts)), records_(opts_.count) {
    // 16 MiB of read buffers in all, 4-64 KiB each: a listener's 20 ms of
    // frames fit in one read at the rates benchmarked.
    const std::size_t buffer_bytes =
        std::clamp<std::size_t>(opts_.count == 0 ? 0 : (16u << 20) / opts_.count, 4096, 65536);
    request_ = "GET " + opts_.target +
               " HTTP/1.1\r\nHost: " + opts_.server.address().to_string() +
               "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n";
    connections_.reserve(opts_.count);
    for (std::size_t i = 0; i < opts_.count; ++i) {
        // The first listener alone reads the data lines: every listener gets the same events.
        connections_.push_back(
            std::make_unique<connection>(io_, buffer_bytes, records_[i], i == 0 ? &receipts_ : nullptr));
    }
}

stream_listeners::~stream_listeners() = default;

void stream_listeners::start(std::function<void()> on_all_streaming,
                             std::function<void(const std::string&)> on_failure) {
    on_all_streaming_ = std::move(on_all_streaming);
    on_failure_ = std::move(on_failure);
    if (opts_.count == 0) {
        asio::post(io_, on_all_streaming_);
        return;
    }
    connect_next();
}

void stream_listeners::connect_next() {
    while (!failed_ && !stopping_ && next_to_connect_ < connections_.size() &&
           connecting_ < opts_.connect_parallel) {
        const std::size_t index = next_to_connect_++;
        ++connecting_;
        connections_[index]->socket.async_connect(opts_.server, [this, index](boost::system::error_code ec) {
            if (ec) {
                on_closed(index, "connect: " + ec.message());
                return;
            }
            on_connected(index);
        });
    }
}

void stream_listeners::on_connected(std::size_t index) {
    auto& c = *connections_[index];
    // request_ outlives every write: it is a member and never changes.
    asio::async_write(c.socket, asio::buffer(request_), [this, index](boost::system::error_code ec, std::size_t) {
        if (ec) {
            on_closed(index, "request: " + ec.message());
            return;
        }
        read_next(index);
    });
}

void stream_listeners::read_next(std::size_t index) {
    auto& c = *connections_[index];
    // Asio reads speculatively first, and after a short read waits for the
    // next epoll edge without another syscall: one read per server write.
    c.socket.async_read_some(asio::buffer(c.buffer), [this, index](boost::system::error_code ec, std::size_t n) {
        if (ec) {
            on_closed(index, ec == asio::error::eof ? "closed by the server" : "read: " + ec.message());
            return;
        }
        on_read(index, n);
    });
}

void stream_listeners::on_read(std::size_t index, std::size_t n) {
    auto& c = *connections_[index];
    if (c.closed) {
        return;
    }
    ++reads_;
    auto& record = records_[index];
    const std::size_t before = record.deliveries.size();
    c.scanner.feed(c.buffer.data(), n, c.handlers);
    if (record.deliveries.size() != before) {
        const std::int64_t stamp = now_ns();
        for (std::size_t i = before; i < record.deliveries.size(); ++i) {
            record.deliveries[i].received_ns = stamp;
        }
    }
    record.overflowed = c.scanner.overflowed();
    record.bad_ids = c.scanner.bad_ids();
    if (c.scanner.current() == sse_scanner::state::failed) {
        on_closed(index, "the stream was refused (status not 200)");
        return;
    }
    if (!c.streaming && c.scanner.streaming()) {
        c.streaming = true;
        ++streaming_;
        --connecting_;
        if (streaming_ == connections_.size()) {
            asio::post(io_, on_all_streaming_);
        } else {
            connect_next();
        }
    }
    if (awaited_offset_ >= 0 && !c.caught_up && c.last_offset >= awaited_offset_) {
        note_caught_up(index);
    }
    read_next(index);
}

void stream_listeners::on_closed(std::size_t index, const std::string& why) {
    auto& c = *connections_[index];
    if (c.closed) {
        return;
    }
    c.closed = true;
    boost::system::error_code ignored;
    c.socket.close(ignored);
    if (stopping_) {
        return;
    }
    records_[index].closed_early = true;
    if (!c.streaming) {
        fail("listener " + std::to_string(index) + ": " + why);
        return;
    }
    if (awaited_offset_ >= 0 && !c.caught_up) {
        note_caught_up(index);
    }
}

void stream_listeners::await_offset(std::int64_t offset, std::function<void()> on_done) {
    awaited_offset_ = offset;
    on_caught_up_ = std::move(on_done);
    caught_up_ = 0;
    if (connections_.empty()) {
        asio::post(io_, std::exchange(on_caught_up_, nullptr));
        return;
    }
    for (std::size_t i = 0; i < connections_.size(); ++i) {
        auto& c = *connections_[i];
        c.caught_up = false;
        if (c.closed || c.last_offset >= offset) {
            note_caught_up(i);
        }
    }
}

void stream_listeners::note_caught_up(std::size_t index) {
    connections_[index]->caught_up = true;
    if (++caught_up_ == connections_.size() && on_caught_up_) {
        asio::post(io_, std::exchange(on_caught_up_, nullptr));
    }
}

void stream_listeners::close_all() {
    stopping_ = true;
    for (std::size_t i = 0; i < connections_.size(); ++i) {
        auto& c = *connections_[i];
        if (!c.closed) {
            c.closed = true;
            boost::system::error_code ignored;
            c.socket.close(ignored);
        }
    }
}

void stream_listeners::fail(const std::string& why) {
    if (failed_) {
        return;
    }
    failed_ = true;
    if (on_failure_) {
        asio::post(io_, [cb = on_failure_, why] { cb(why); });
    }
}

}  // namespace obs::bench
