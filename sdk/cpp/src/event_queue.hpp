// The provider's memory queue: the events log() accepted and the background
// thread has not taken yet, in seq order, stored back to back in large
// blocks instead of one heap string (and one deque slot) each.
//
// Why: with a string per event, log() paid a malloc per event, a deque chunk
// every few events, and, while the queue grows (server down, or a burst),
// a page fault every dozen events on fresh heap memory: those faults were
// most of log()'s p99 (scripts/bench-sdk). Here log() copies its line into
// the current block; blocks the thread has finished with are kept as
// spares (already touched), and the thread prepares a touched spare ahead
// of need, so a growing queue rarely faults in log() either.
//
// A taken event's line stays valid while the batch holds its block (the
// `keep` list of pop_front). Not thread-safe: the provider's mutex guards it.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string_view>
#include <vector>

namespace observability::detail {

struct queued_event {
    std::uint64_t seq = 0;
    std::uint64_t segment = 0;  // its spool segment; 0 when not spooled
    std::int64_t logged_ms = 0; // when log() took it (Unix ms): starts the flush_interval
    std::string_view line;      // the NDJSON line, '\n' included; in a block the taker keeps
};

class event_queue {
public:
    struct block;
    using block_ref = std::shared_ptr<block>;

    // Bytes of a regular block (a huge page); a larger event gets a block
    // of its own.
    static constexpr std::size_t block_bytes = 2u << 20;

    // Appends an event. True when it used the last spare block: the
    // thread should prepare another (make_spare) soon.
    bool push(std::uint64_t seq, std::uint64_t segment, std::int64_t logged_ms, std::string_view line);

    std::size_t size() const { return count_; }
    bool empty() const { return count_ == 0; }
    // REQUIRES: !empty().
    queued_event front() const;
    // Removes the front event; `keep` gets its block (once) so that the
    // event's line stays valid until `keep` is given back to recycle().
    void pop_front(std::vector<block_ref>& keep);

    // Blocks a finished batch held: those nothing else uses become spares
    // (up to a few), the rest are freed.
    void recycle(std::vector<block_ref>& kept);
    bool wants_spare() const { return spares_.empty(); }
    // A block with every page touched, made without the lock, for add_spare.
    static block_ref make_spare();
    void add_spare(block_ref b);

private:
    void start_block(std::size_t need);

    std::deque<block_ref> blocks_;  // front: read at head_; back: written
    std::size_t head_ = 0;          // offset of the front event in blocks_.front()
    std::size_t count_ = 0;
    std::vector<block_ref> spares_;
};

}  // namespace observability::detail
