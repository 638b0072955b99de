// The stream benchmark's poster: see event_poster.hpp. A minimal HTTP/1.1
// client (the server answers with Content-Length), enough for one fixed
// request over keep-alive connections; the 201 body gives the offsets.
#include "tests/bench/event_poster.hpp"

#include "tests/bench/stream_listeners.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/completion_condition.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <utility>

namespace obs::bench {

namespace asio = boost::asio;

namespace {

// Requests sent later than this after their tick count as late.
constexpr std::int64_t late_after_ns = 1'000'000;

std::chrono::steady_clock::time_point at_ns(std::int64_t ns) {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns));
}

// The value of header `name` (lower case) in `head`, or "" when absent.
std::string header_value(const std::string& head, const std::string& name) {
    std::string lower(head);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    const auto at = lower.find("\r\n" + name + ":");
    if (at == std::string::npos) {
        return "";
    }
    auto start = at + 2 + name.size() + 1;
    const auto end = head.find("\r\n", start);
    while (start < end && head[start] == ' ') {
        ++start;
    }
    return head.substr(start, end - start);
}

}  // namespace

struct event_poster::connection {
    explicit connection(asio::io_context& io) : socket(io) {}

    asio::ip::tcp::socket socket;
    std::string in;            // bytes read and not yet consumed
    std::int64_t sent_ns = 0;  // when the request in flight was sent
    int status = 0;            // of the answer being read
    bool busy = false;         // a request is in flight
    bool alive = false;        // connected and not broken
};

event_poster::event_poster(asio::io_context& io, options opts)
    : io_(io), opts_(std::move(opts)), tick_timer_(io) {
    std::string event = R"({"run_id":")" + opts_.run_id + R"(","type":"thought","payload":{"text":")" +
                        std::string(opts_.text_bytes, 'x') + R"("}})";
    std::string body = R"({"events":[)";
    for (std::size_t i = 0; i < opts_.batch; ++i) {
        body += (i == 0 ? "" : ",") + event;
    }
    body += "]}";
    request_ = "POST /observability/events HTTP/1.1\r\nHost: " + opts_.server.address().to_string() +
               "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
               body;
    interval_ns_ = static_cast<std::int64_t>(1e9 * static_cast<double>(opts_.batch) / opts_.events_per_second);
    ticks_total_ = static_cast<std::uint64_t>(static_cast<double>(opts_.duration.count()) * 1e6 /
                                              static_cast<double>(interval_ns_));
    for (std::size_t i = 0; i < opts_.connections; ++i) {
        connections_.push_back(std::make_unique<connection>(io_));
    }
}

event_poster::~event_poster() = default;

void event_poster::start(std::function<void()> on_done) {
    on_done_ = std::move(on_done);
    for (std::size_t i = 0; i < connections_.size(); ++i) {
        connections_[i]->socket.async_connect(opts_.server, [this, i](boost::system::error_code ec) {
            if (ec) {
                on_broken(i, "connect: " + ec.message());
            } else {
                connections_[i]->alive = true;
                connections_[i]->socket.set_option(asio::ip::tcp::no_delay(true));
            }
            if (++connected_ == connections_.size() && !finished_) {
                started_ns_ = now_ns();
                on_tick();
            }
        });
    }
}

void event_poster::on_tick() {
    if (finished_) {
        return;
    }
    const std::int64_t due = started_ns_ + static_cast<std::int64_t>(ticks_done_) * interval_ns_;
    ++ticks_done_;
    const auto idle = std::find_if(connections_.begin(), connections_.end(),
                                   [](const auto& c) { return c->alive && !c->busy; });
    if (idle != connections_.end()) {
        send(static_cast<std::size_t>(idle - connections_.begin()), due);
    } else {
        backlog_.push_back(due);
    }
    if (ticks_done_ < ticks_total_) {
        tick_timer_.expires_at(at_ns(started_ns_ + static_cast<std::int64_t>(ticks_done_) * interval_ns_));
        tick_timer_.async_wait([this](boost::system::error_code ec) {
            if (!ec) {
                on_tick();
            }
        });
    } else {
        maybe_finish();
    }
}

void event_poster::send(std::size_t index, std::int64_t tick_ns) {
    auto& c = *connections_[index];
    c.busy = true;
    c.sent_ns = now_ns();
    const std::int64_t lateness = c.sent_ns - tick_ns;
    if (lateness > late_after_ns) {
        ++late_;
    }
    max_lateness_ns_ = std::max(max_lateness_ns_, lateness);
    ++requests_sent_;
    // request_ is a member that never changes while the write is in flight.
    asio::async_write(c.socket, asio::buffer(request_), [this, index](boost::system::error_code ec, std::size_t) {
        if (ec) {
            on_broken(index, "write: " + ec.message());
            return;
        }
        read_head(index);
    });
}

void event_poster::read_head(std::size_t index) {
    auto& c = *connections_[index];
    asio::async_read_until(
        c.socket, asio::dynamic_buffer(c.in), "\r\n\r\n", [this, index](boost::system::error_code ec, std::size_t n) {
            if (ec) {
                on_broken(index, "read: " + ec.message());
                return;
            }
            auto& conn = *connections_[index];
            const std::string head = conn.in.substr(0, n);
            conn.in.erase(0, n);
            conn.status = (head.size() > 12 && head.compare(0, 5, "HTTP/") == 0) ? std::atoi(head.c_str() + 9) : 0;
            const std::string length = header_value(head, "content-length");
            std::size_t body_bytes = 0;
            const auto [ptr, lec] = std::from_chars(length.data(), length.data() + length.size(), body_bytes);
            if (length.empty() || lec != std::errc{} || ptr != length.data() + length.size()) {
                on_broken(index, "an answer without Content-Length");
                return;
            }
            read_body(index, body_bytes);
        });
}

void event_poster::read_body(std::size_t index, std::size_t body_bytes) {
    auto& c = *connections_[index];
    if (c.in.size() >= body_bytes) {
        std::string body = c.in.substr(0, body_bytes);
        c.in.erase(0, body_bytes);
        on_answer(index, c.status, body);
        return;
    }
    asio::async_read(c.socket, asio::dynamic_buffer(c.in), asio::transfer_exactly(body_bytes - c.in.size()),
                     [this, index, body_bytes](boost::system::error_code ec, std::size_t) {
                         if (ec) {
                             on_broken(index, "read: " + ec.message());
                             return;
                         }
                         read_body(index, body_bytes);
                     });
}

void event_poster::on_answer(std::size_t index, int status, const std::string& body) {
    const std::int64_t acked = now_ns();
    auto& c = *connections_[index];
    c.busy = false;
    finished_ns_ = acked;
    if (status != 201) {
        note_error("status " + std::to_string(status) + ": " + body.substr(0, 300));
    } else {
        boost::system::error_code ec;
        const boost::json::value answer = boost::json::parse(body, ec);
        const auto* object = ec ? nullptr : answer.if_object();
        const auto* list = object != nullptr ? object->if_contains("events") : nullptr;
        if (list == nullptr || !list->is_array()) {
            note_error("a 201 without events: " + body.substr(0, 300));
        } else {
            for (const auto& ev : list->get_array()) {
                const auto* fields = ev.if_object();
                const auto* offset = fields != nullptr ? fields->if_contains("offset") : nullptr;
                if (offset == nullptr || !offset->is_int64()) {
                    note_error("an answered event without offset: " + body.substr(0, 300));
                    continue;
                }
                events_.push_back(posted_event{offset->get_int64(), c.sent_ns, acked});
            }
        }
    }
    if (!backlog_.empty()) {
        const std::int64_t due = backlog_.front();
        backlog_.erase(backlog_.begin());
        send(index, due);
        return;
    }
    maybe_finish();
}

void event_poster::on_broken(std::size_t index, const std::string& why) {
    auto& c = *connections_[index];
    note_error(why);
    c.alive = false;
    c.busy = false;
    boost::system::error_code ignored;
    c.socket.close(ignored);
    if (std::none_of(connections_.begin(), connections_.end(), [](const auto& x) { return x->alive; })) {
        // Nothing left to send on: the run ends with what was answered.
        backlog_.clear();
        ticks_done_ = ticks_total_;
        tick_timer_.cancel();
    }
    maybe_finish();
}

void event_poster::note_error(const std::string& why) {
    if (errors_++ == 0) {
        first_error_ = why;
    }
}

void event_poster::maybe_finish() {
    if (finished_ || connected_ < connections_.size() || ticks_done_ < ticks_total_ || !backlog_.empty() ||
        std::any_of(connections_.begin(), connections_.end(), [](const auto& c) { return c->busy; })) {
        return;
    }
    finished_ = true;
    for (auto& c : connections_) {
        boost::system::error_code ignored;
        c->socket.close(ignored);
    }
    asio::post(io_, std::exchange(on_done_, nullptr));
}

}  // namespace obs::bench
