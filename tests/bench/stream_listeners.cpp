// The stream benchmark's listeners: see stream_listeners.hpp. Reads are
// reactor-style: wait until a socket is readable, then read it dry with
// non-blocking read_some into the shared buffer (until would_block, so an
// edge of the edge-triggered epoll is never missed), stamping the time once
// per read rather than once per frame.
#include "tests/bench/stream_listeners.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <utility>

namespace obs::bench {

namespace asio = boost::asio;

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

struct stream_listeners::connection {
    explicit connection(asio::io_context& io) : socket(io) {}

    asio::ip::tcp::socket socket;
    sse_scanner scanner;
    std::int64_t last_offset = -1;  // the highest offset received
    bool streaming = false;         // counted in streaming_
    bool caught_up = false;         // counted in caught_up_
    bool closed = false;
};

stream_listeners::stream_listeners(asio::io_context& io, options opts)
    : io_(io), opts_(std::move(opts)), records_(opts_.count), read_buffer_(256 * 1024) {
    request_ = "GET " + opts_.target +
               " HTTP/1.1\r\nHost: " + opts_.server.address().to_string() +
               "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n";
    connections_.reserve(opts_.count);
    for (std::size_t i = 0; i < opts_.count; ++i) {
        connections_.push_back(std::make_unique<connection>(io_));
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
    c.socket.non_blocking(true);
    // request_ outlives every write: it is a member and never changes.
    asio::async_write(c.socket, asio::buffer(request_), [this, index](boost::system::error_code ec, std::size_t) {
        if (ec) {
            on_closed(index, "request: " + ec.message());
            return;
        }
        drain(index);
    });
}

void stream_listeners::wait_readable(std::size_t index) {
    connections_[index]->socket.async_wait(asio::ip::tcp::socket::wait_read,
                                           [this, index](boost::system::error_code ec) {
                                               if (ec) {
                                                   on_closed(index, "wait: " + ec.message());
                                                   return;
                                               }
                                               drain(index);
                                           });
}

void stream_listeners::drain(std::size_t index) {
    auto& c = *connections_[index];
    auto& record = records_[index];
    const std::function<void(std::int64_t)> on_event = [&c, &record](std::int64_t offset) {
        record.deliveries.push_back(delivery{offset, 0});
        if (offset > c.last_offset) {
            c.last_offset = offset;
        }
    };
    for (;;) {
        if (c.closed) {
            return;
        }
        boost::system::error_code ec;
        const std::size_t n = c.socket.read_some(asio::buffer(read_buffer_), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) {
            wait_readable(index);
            return;
        }
        if (ec) {
            on_closed(index, ec == asio::error::eof ? "closed by the server" : "read: " + ec.message());
            return;
        }
        const std::size_t before = record.deliveries.size();
        c.scanner.feed(read_buffer_.data(), n, on_event);
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
    }
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
