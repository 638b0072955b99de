// The glue between one CURLM and the io_context (see curl_multi.hpp).
//
// Sockets: curl owns them; we only watch them. A stream_descriptor is
// assigned to each fd curl asks us to watch and *released* (never closed)
// when curl says CURL_POLL_REMOVE or is about to close it (our
// CLOSESOCKETFUNCTION), so the reactor never holds a stale registration of a
// reused fd number.
#include "backup/curl_multi.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/prefer.hpp>
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

// One transfer awaiting its end.
struct pending_transfer {
    asio::any_completion_handler<void(transfer_result)> handler;
    std::array<char, CURL_ERROR_SIZE> error{};  // CURLOPT_ERRORBUFFER
    asio::any_io_executor work;                  // keeps the io_context running meanwhile
};

}  // namespace

struct curl_multi::impl : std::enable_shared_from_this<impl> {
    explicit impl(asio::any_io_executor ex) : io(std::move(ex)), timer(io) {}

    asio::any_io_executor io;
    std::unique_ptr<CURLM, multi_cleanup> multi;
    asio::steady_timer timer;  // curl's single timeout
    std::unordered_map<curl_socket_t, std::shared_ptr<watched_socket>> sockets;
    std::unordered_map<CURL*, std::unique_ptr<pending_transfer>> transfers;

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
            transfer_result r;
            r.code = m->data.result;
            curl_multi_remove_handle(multi.get(), easy);
            curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r.http_status);
            auto it = transfers.find(easy);
            if (it == transfers.end()) continue;
            std::unique_ptr<pending_transfer> t = std::move(it->second);
            transfers.erase(it);
            if (r.code != CURLE_OK) r.error = t->error[0] != '\0' ? t->error.data() : curl_easy_strerror(r.code);
            complete(std::move(t), std::move(r));
        }
    }

    // Resumes the awaiting coroutine from the loop, not from inside curl.
    void complete(std::unique_ptr<pending_transfer> t, transfer_result r) {
        auto handler = std::move(t->handler);
        asio::post(io, [handler = std::move(handler), r = std::move(r), t = std::move(t)]() mutable {
            std::move(handler)(std::move(r));
        });
    }

    void start(CURL* easy, asio::any_completion_handler<void(transfer_result)> handler) {
        auto t = std::make_unique<pending_transfer>();
        t->handler = std::move(handler);
        t->work = asio::prefer(io, asio::execution::outstanding_work.tracked);
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->error.data());
        curl_easy_setopt(easy, CURLOPT_PRIVATE, this);
        curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &impl::on_close_socket);
        curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
        const CURLMcode rc = curl_multi_add_handle(multi.get(), easy);
        if (rc != CURLM_OK) {
            transfer_result r;
            r.code = CURLE_FAILED_INIT;
            r.error = std::string("curl_multi_add_handle: ") + curl_multi_strerror(rc);
            complete(std::move(t), std::move(r));
            return;
        }
        transfers.emplace(easy, std::move(t));
    }

    void shutdown() {
        for (auto& [easy, t] : transfers) curl_multi_remove_handle(multi.get(), easy);
        transfers.clear();  // destroys the handlers: their coroutines never resume
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
    auto self = impl_;
    co_return co_await asio::async_initiate<const asio::use_awaitable_t<>, void(transfer_result)>(
        [self, easy](auto handler) { self->start(easy, std::move(handler)); }, asio::use_awaitable);
}

std::size_t curl_multi::active() const noexcept { return impl_->transfers.size(); }

asio::any_io_executor curl_multi::get_executor() const { return impl_->io; }

}  // namespace obs::backup
