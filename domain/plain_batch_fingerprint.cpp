// The fast path's fingerprint (see plain_batch_fingerprint.hpp): the
// canonical text assembled from the decoded envelope and the payload text,
// the payload's unsorted objects reordered in place, then hashed.
#include "domain/plain_batch_fingerprint.hpp"

#include "domain/sha256.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace obs::domain::detail {

void canonical_order::begin_payload(bool keep_order) {
    keep_order_ = keep_order;
    keys_.clear();
    members_.clear();
    open_.clear();
    moved_.clear();
    reorderings_.clear();
    kept_keys_ = 0;
}

bool canonical_order::add_member(std::size_t start, std::string_view key) {
    for (std::size_t i = open_.back(); i < members_.size(); ++i)
        if (key_of(members_[i]) == key) return false;
    members_.push_back({static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(keys_.size()),
                        static_cast<std::uint32_t>(key.size())});
    keys_.append(key);
    return true;
}

void canonical_order::close_object(std::size_t close) {
    const std::uint32_t first = open_.back();
    open_.pop_back();
    const std::size_t count = members_.size() - first;
    if (!keep_order_) {
        if (count > 0) keys_.resize(members_[first].key_at);
        members_.resize(first);
        return;
    }
    bool sorted = true;
    // std::string_view's order is fingerprint.cpp's: bytewise, unsigned.
    for (std::size_t i = first + 1; i < members_.size() && sorted; ++i)
        sorted = key_of(members_[i - 1]) < key_of(members_[i]);
    if (sorted) {
        // Its keys are read no more, unless a reordering of an object inside
        // it reads the ones after them.
        if (count > 0) keys_.resize(std::max<std::size_t>(members_[first].key_at, kept_keys_));
    } else {
        reorderings_.push_back({static_cast<std::uint32_t>(moved_.size()), static_cast<std::uint32_t>(count),
                                static_cast<std::uint32_t>(close)});
        moved_.insert(moved_.end(), members_.begin() + first, members_.end());
        kept_keys_ = keys_.size();
    }
    members_.resize(first);
}

// Rewrites one object's members, at `base` + their offsets in canonical_,
// in key order. Each member's text runs from its start to the comma before
// the next (the last one to `close`); the object's length does not change,
// so the offsets of the objects around it stay right.
void canonical_order::reorder(std::size_t base, const reordering& r) {
    const member* m = moved_.data() + r.first;
    order_.resize(r.count);
    for (std::uint32_t i = 0; i < r.count; ++i) order_[i] = i;
    std::sort(order_.begin(), order_.end(),
              [&](std::uint32_t a, std::uint32_t b) { return key_of(m[a]) < key_of(m[b]); });
    piece_.clear();
    for (const std::uint32_t i : order_) {
        const std::uint32_t end = i + 1 < r.count ? m[i + 1].start - 1 : r.close;
        if (!piece_.empty()) piece_.push_back(',');
        piece_.append(canonical_, base + m[i].start, end - m[i].start);
    }
    assert(piece_.size() == r.close - m[0].start);
    std::memcpy(canonical_.data() + base + m[0].start, piece_.data(), piece_.size());
}

std::string canonical_order::fingerprint(const event& ev, const std::optional<std::string>& ts_text,
                                         std::string_view payload_text) {
    // The envelope's keys in bytewise order: id < node < parent_id <
    // payload < run_id < ts < type.
    canonical_.clear();
    canonical_.append("{\"id\":");
    append_json_string(canonical_, ev.id);
    if (ev.node) {
        canonical_.append(",\"node\":");
        append_json_string(canonical_, *ev.node);
    }
    if (ev.parent_id) {
        canonical_.append(",\"parent_id\":");
        append_json_string(canonical_, *ev.parent_id);
    }
    canonical_.append(",\"payload\":");
    const std::size_t base = canonical_.size();
    canonical_.append(payload_text);
    for (const auto& r : reorderings_) reorder(base, r);
    canonical_.append(",\"run_id\":");
    append_json_string(canonical_, ev.run_id);
    if (ts_text) {
        canonical_.append(",\"ts\":");
        append_json_string(canonical_, *ts_text);
    }
    canonical_.append(",\"type\":");
    append_json_string(canonical_, to_string(ev.type));
    canonical_.push_back('}');
    return sha256_hex(canonical_);
}

}  // namespace obs::domain::detail
