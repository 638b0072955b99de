// The fingerprint of an event with a client `id` on the streaming fast path
// (plain_batch.cpp), without a DOM: the fast path already writes the
// payload's compact text in the order the client sent it, byte for byte
// what the full decoder serialises. The canonical text fingerprint.cpp
// hashes differs from it only in the order of object members (sorted
// bytewise by key, at every level), and the envelope's keys are a closed
// set, so their sorted order is fixed. This class records, while the
// payload is written, where each object's members start and their keys;
// for each object whose keys came unsorted it keeps a reordering, applied
// (innermost first) to a copy of the payload text when the event ends.
// The result is the very text fingerprint_of hashes, so the hash is equal.
//
// Why not a small DOM per event for the hash: it was about half as fast,
// measured by obs_bench_decode (scripts/bench-decode); the numbers are in
// plain_batch_envelope.cpp, where this is used.
#pragma once

#include "domain/event.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace obs::domain::detail {

class canonical_order {
public:
    // An event's payload begins; the previous one is forgotten. With
    // `keep_order` false (no client id, so no fingerprint) only what the
    // duplicate check of add_member needs is kept, and the caller adds no
    // members of the payload object itself (the rule table checks those).
    void begin_payload(bool keep_order);
    bool keeps_order() const { return keep_order_; }

    // An object opens in the payload text (the payload itself included).
    void open_object() { open_.push_back(static_cast<std::uint32_t>(members_.size())); }

    // A member of the innermost open object starts at `start` in the payload
    // text (its key's opening quote) with the unescaped key `key`. False,
    // and nothing recorded, when the object already has that key.
    bool add_member(std::size_t start, std::string_view key);

    // Members of the innermost open object so far.
    std::size_t open_members() const { return members_.size() - open_.back(); }

    // The innermost open object closes; `close` is where its `}` goes in the
    // payload text (the end of its last member).
    void close_object(std::size_t close);

    // The lower-case hex SHA-256 of the canonical text of `ev` (a client's
    // id given, fields and payload_text decoded), with `ts_text` the `ts`
    // string as sent when there was one. `payload_text` is the compact
    // payload in the client's order, the objects this recorded in it.
    std::string fingerprint(const event& ev, const std::optional<std::string>& ts_text,
                            std::string_view payload_text);

private:
    struct member {
        std::uint32_t start;    // offset of its key's quote in the payload text
        std::uint32_t key_at;   // its unescaped key in keys_
        std::uint32_t key_size;
    };
    // An object whose members must be put in key order.
    struct reordering {
        std::uint32_t first;  // its members in moved_
        std::uint32_t count;
        std::uint32_t close;  // the end of its last member
    };

    std::string_view key_of(const member& m) const { return {keys_.data() + m.key_at, m.key_size}; }
    void reorder(std::size_t base, const reordering& r);

    bool keep_order_ = false;
    std::string keys_;                  // unescaped keys of the event's objects
    std::size_t kept_keys_ = 0;         // keys_ up to here are read by reorderings_
    std::vector<member> members_;       // of the open objects, innermost last
    std::vector<std::uint32_t> open_;   // per open object: its first entry in members_
    std::vector<member> moved_;         // members of the objects in reorderings_
    std::vector<reordering> reorderings_;  // in closing order: inner objects first
    std::vector<std::uint32_t> order_;  // scratch: member indexes in key order
    std::string canonical_;             // scratch: the canonical text
    std::string piece_;                 // scratch: one object's members in key order
};

}  // namespace obs::domain::detail
