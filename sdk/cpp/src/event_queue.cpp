// The block queue of the provider; see event_queue.hpp. Each event is a
// fixed header followed by its line, padded to 8 bytes, in a block.
#include "event_queue.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

namespace observability::detail {

namespace {

struct free_deleter {
    void operator()(char* p) const { std::free(p); }
};

// A block's memory: for a regular block 2 MiB aligned to 2 MiB and marked
// for transparent huge pages, so a block costs the thread that first writes
// it one fault rather than 512 (where THP is off it costs the 512, as any
// memory would). An event larger than a block gets plain memory.
char* allocate(std::size_t bytes) {
    if (bytes == event_queue::block_bytes) {
        void* p = std::aligned_alloc(event_queue::block_bytes, bytes);
        if (p) (void)::madvise(p, bytes, MADV_HUGEPAGE);
        if (p) return static_cast<char*>(p);
    } else if (void* p = std::malloc(bytes)) {
        return static_cast<char*>(p);
    }
    throw std::bad_alloc();
}

}  // namespace

struct event_queue::block {
    std::unique_ptr<char[], free_deleter> bytes;
    std::size_t capacity = 0;
    std::size_t used = 0;
};

namespace {

struct record_header {
    std::uint64_t seq;
    std::uint64_t segment;
    std::int64_t logged_ms;
    std::uint64_t size;  // of the line
};

// Finished blocks kept for reuse: one ready for the next block to be
// written, one more for a burst; more would only hold memory.
constexpr std::size_t max_spares = 2;

constexpr std::size_t record_bytes(std::size_t line_size) {
    return sizeof(record_header) + ((line_size + 7) & ~std::size_t{7});
}

}  // namespace

bool event_queue::push(std::uint64_t seq, std::uint64_t segment, std::int64_t logged_ms, std::string_view line) {
    const std::size_t need = record_bytes(line.size());
    bool took_last_spare = false;
    if (blocks_.empty() || blocks_.back()->capacity - blocks_.back()->used < need) {
        took_last_spare = need <= block_bytes && spares_.size() == 1;
        start_block(need);
    }
    block& b = *blocks_.back();
    const record_header h{seq, segment, logged_ms, line.size()};
    std::memcpy(b.bytes.get() + b.used, &h, sizeof h);
    std::memcpy(b.bytes.get() + b.used + sizeof h, line.data(), line.size());
    b.used += need;
    ++count_;
    return took_last_spare;
}

void event_queue::start_block(std::size_t need) {
    if (need <= block_bytes && !spares_.empty()) {
        blocks_.push_back(std::move(spares_.back()));
        spares_.pop_back();
        return;
    }
    // No spare (or an event larger than a block): fresh memory, whose
    // pages fault as they are written.
    auto b = std::make_shared<block>();
    b->capacity = std::max(need, block_bytes);
    b->bytes.reset(allocate(b->capacity));
    blocks_.push_back(std::move(b));
}

queued_event event_queue::front() const {
    const block& b = *blocks_.front();
    record_header h;
    std::memcpy(&h, b.bytes.get() + head_, sizeof h);
    return {h.seq, h.segment, h.logged_ms, std::string_view(b.bytes.get() + head_ + sizeof h, h.size)};
}

void event_queue::pop_front(std::vector<block_ref>& keep) {
    const block_ref& b = blocks_.front();
    if (keep.empty() || keep.back() != b) keep.push_back(b);
    record_header h;
    std::memcpy(&h, b->bytes.get() + head_, sizeof h);
    head_ += record_bytes(h.size);
    --count_;
    if (head_ == b->used) {
        // Fully read: the taker's reference keeps it alive; the next push
        // starts a new block (a spare) even when this was the last one.
        blocks_.pop_front();
        head_ = 0;
    }
}

void event_queue::recycle(std::vector<block_ref>& kept) {
    for (auto& b : kept) {
        if (b.use_count() == 1 && b->capacity == block_bytes && spares_.size() < max_spares) {
            b->used = 0;
            spares_.push_back(std::move(b));
        }
    }
    kept.clear();
}

event_queue::block_ref event_queue::make_spare() {
    auto b = std::make_shared<block>();
    b->capacity = block_bytes;
    b->bytes.reset(allocate(block_bytes));
    std::memset(b->bytes.get(), 0, block_bytes);  // every page touched now, not in log()
    return b;
}

void event_queue::add_spare(block_ref b) {
    if (spares_.size() < max_spares) spares_.push_back(std::move(b));
}

}  // namespace observability::detail
