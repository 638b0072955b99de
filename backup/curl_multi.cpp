// The glue between one CURLM and the io_context (see curl_multi.hpp).
//
// Sockets: curl owns them; we only watch them. A stream_descriptor is
// assigned to each fd curl asks us to watch and *released* (never closed)
// when curl says CURL_POLL_REMOVE or is about to close it (our
// CLOSESOCKETFUNCTION), so the reactor never holds a stale registration of a
// reused fd number.
#include "backup/curl_multi.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <unistd.h>
#include <unordered_map>

namespace obs::backup {

namespace asio = boost::asio;

easy_ptr make_easy() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    easy_ptr h(curl_easy_init());
    if (!h) throw std::runtime_error("curl_easy_init failed");
    return h;
}

void append_header(slist_ptr& list, const std::string& line) {
    curl_slist* next = curl_slist_append(list.get(), line.c_str());
    if (next == nullptr) throw std::bad_alloc();
    (void)list.release();
    list.reset(next);
}

namespace {

struct multi_cleanup {
    void operator()(CURLM* m) const noexcept { curl_multi_cleanup(m); }
};

// One socket curl asked us to watch.
struct watched_socket {
    explicit watched_socket(const asio::any_io_executor& io) : descriptor(io) {}
    asio::posix::stream_descriptor descriptor;  // assigned to curl's fd; released, never closed
    int wanted = 0;         // CURL_POLL_IN/OUT/INOUT as curl last said
    bool reading = false;   // an async_wait(read) is pending
    bool writing = false;   // an async_wait(write) is pending
    bool forgotten = false; // curl removed or closed it
};

// One transfer awaiting its end. The awaiting coroutine waits on `done`, a
// timer that never expires by itself: cancelling it is the completion
// signal, delivered through the loop (never from inside curl).
struct pending_transfer {
    explicit pending_transfer(const asio::any_io_executor& io) : done(io, std::chrono::steady_clock::time_point::max()) {}
    asio::steady_timer done;
    transfer_result result;
    bool finished = false;
    std::array<char, CURL_ERROR_SIZE> error{};  // CURLOPT_ERRORBUFFER
};

}  // namespace

struct curl_multi::impl : std::enable_shared_from_this<impl> {
    explicit impl(asio::any_io_executor ex) : io(std::move(ex)), timer(io) {}

    asio::any_io_executor io;
    std::unique_ptr<CURLM, multi_cleanup> multi;
    asio::steady_timer timer;  // curl's single timeout
    std::unordered_map<curl_socket_t, std::shared_ptr<watched_socket>> sockets;
    std::unordered_map<CURL*, std::shared_ptr<pending_transfer>> transfers;

    static int on_socket(CURL*, curl_socket_t fd, int what, void* userp, void*) {
        auto* self = static_cast<impl*>(userp);
        if (what == CURL_POLL_REMOVE) {
            self->forget(fd);
            return 0;
        }
        auto& w = self->sockets[fd];
        if (!w) {
            w = std::make_shared<watched_socket>(self->io);
            boost::system::error_code ec;
            w->descriptor.assign(fd, ec);
            if (ec) {
                self->sockets.erase(fd);
                return -1;  // curl fails the transfer
            }
        }
        w->wanted = what;
        self->watch(fd, w);
        return 0;
    }

    static int on_timer(CURLM*, long timeout_ms, void* userp) {
        auto* self = static_cast<impl*>(userp);
        if (timeout_ms < 0) {
            self->timer.cancel();
            return 0;
        }
        // Even a zero timeout goes through the loop: curl must not be
        // re-entered from its own callback.
        self->timer.expires_after(std::chrono::milliseconds(timeout_ms));
        self->timer.async_wait([self = self->shared_from_this()](boost::system::error_code ec) {
            if (ec || !self->multi) return;
            self->act(CURL_SOCKET_TIMEOUT, 0);
        });
        return 0;
    }

    static int on_close_socket(void* clientp, curl_socket_t fd) {
        static_cast<impl*>(clientp)->forget(fd);
        return ::close(fd);
    }

    void watch(curl_socket_t fd, const std::shared_ptr<watched_socket>& w) {
        if ((w->wanted & CURL_POLL_IN) && !w->reading) {
            w->reading = true;
            w->descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                                     [self = shared_from_this(), fd, w](boost::system::error_code ec) {
                                         w->reading = false;
                                         if (ec || w->forgotten || !self->multi || !(w->wanted & CURL_POLL_IN)) return;
                                         self->act(fd, CURL_CSELECT_IN);
                                         if (!w->forgotten) self->watch(fd, w);
                                     });
        }
        if ((w->wanted & CURL_POLL_OUT) && !w->writing) {
            w->writing = true;
            w->descriptor.async_wait(asio::posix::descriptor_base::wait_write,
                                     [self = shared_from_this(), fd, w](boost::system::error_code ec) {
                                         w->writing = false;
                                         if (ec || w->forgotten || !self->multi || !(w->wanted & CURL_POLL_OUT)) return;
                                         self->act(fd, CURL_CSELECT_OUT);
                                         if (!w->forgotten) self->watch(fd, w);
                                     });
        }
    }

    void forget(curl_socket_t fd) {
        auto it = sockets.find(fd);
        if (it == sockets.end()) return;
        it->second->forgotten = true;
        // release() cancels the pending waits and leaves the fd to curl.
        (void)it->second->descriptor.release();
        sockets.erase(it);
    }

    void act(curl_socket_t fd, int events) {
        int running = 0;
        curl_multi_socket_action(multi.get(), fd, events, &running);
        collect_finished();
    }

    void collect_finished() {
        int left = 0;
        while (CURLMsg* m = curl_multi_info_read(multi.get(), &left)) {
            if (m->msg != CURLMSG_DONE) continue;
            CURL* easy = m->easy_handle;
            const CURLcode code = m->data.result;
            curl_multi_remove_handle(multi.get(), easy);
            auto it = transfers.find(easy);
            if (it == transfers.end()) continue;
            std::shared_ptr<pending_transfer> t = std::move(it->second);
            transfers.erase(it);
            t->result.code = code;
            curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &t->result.http_status);
            if (code != CURLE_OK) t->result.error = t->error[0] != '\0' ? t->error.data() : curl_easy_strerror(code);
            finish(*t);
        }
    }

    static void finish(pending_transfer& t) {
        t.finished = true;
        t.done.cancel();
    }

    // Adds the transfer; on failure it is finished at once.
    void start(CURL* easy, const std::shared_ptr<pending_transfer>& t) {
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->error.data());
        curl_easy_setopt(easy, CURLOPT_PRIVATE, this);
        curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &impl::on_close_socket);
        curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
        const CURLMcode rc = curl_multi_add_handle(multi.get(), easy);
        if (rc != CURLM_OK) {
            t->result.code = CURLE_FAILED_INIT;
            t->result.error = std::string("curl_multi_add_handle: ") + curl_multi_strerror(rc);
            t->finished = true;
            return;
        }
        transfers.emplace(easy, t);
    }

    // The awaiting coroutine went away (its frame destroyed) before the end:
    // curl must forget the handle before its owner frees it.
    void abandon(CURL* easy) {
        auto it = transfers.find(easy);
        if (it == transfers.end()) return;
        if (multi) curl_multi_remove_handle(multi.get(), easy);
        transfers.erase(it);
    }

    void shutdown() {
        for (auto& [easy, t] : transfers) {
            curl_multi_remove_handle(multi.get(), easy);
            t->result.code = CURLE_ABORTED_BY_CALLBACK;
            t->result.error = "transfer abandoned: the curl multi handle was destroyed";
            finish(*t);  // resumes the awaiting coroutine, if the loop runs again
        }
        transfers.clear();
        multi.reset();      // curl closes its cached connections through on_close_socket
        timer.cancel();
        while (!sockets.empty()) forget(sockets.begin()->first);
    }
};

curl_multi::curl_multi(asio::any_io_executor io) : impl_(std::make_shared<impl>(std::move(io))) {
    (void)make_easy();  // curl_global_init, once
    impl_->multi.reset(curl_multi_init());
    if (!impl_->multi) throw std::runtime_error("curl_multi_init failed");
    CURLM* m = impl_->multi.get();
    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, &impl::on_socket);
    curl_multi_setopt(m, CURLMOPT_SOCKETDATA, impl_.get());
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, &impl::on_timer);
    curl_multi_setopt(m, CURLMOPT_TIMERDATA, impl_.get());
}

curl_multi::~curl_multi() { impl_->shutdown(); }

asio::awaitable<transfer_result> curl_multi::perform(CURL* easy) {
    const std::shared_ptr<impl> self = impl_;
    auto t = std::make_shared<pending_transfer>(self->io);
    self->start(easy, t);
    // Runs when this frame ends, normally or destroyed mid-wait.
    struct abandon_guard {
        std::shared_ptr<impl> self;
        CURL* easy;
        std::shared_ptr<pending_transfer> t;
        ~abandon_guard() {
            if (!t->finished) self->abandon(easy);
        }
    } guard{self, easy, t};
    if (!t->finished) {
        boost::system::error_code ec;  // operation_aborted: the completion signal
        co_await t->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return t->result;
}

std::size_t curl_multi::active() const noexcept { return impl_->transfers.size(); }

asio::any_io_executor curl_multi::get_executor() const { return impl_->io; }

}  // namespace obs::backup
