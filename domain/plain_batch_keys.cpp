// The duplicate-key check of the fast path (see plain_batch_keys.hpp). An
// object has a handful of keys (at most 64 are compared, plain_batch.cpp
// declines beyond), so a linear scan beats any index.
#include "domain/plain_batch_keys.hpp"

namespace obs::domain::detail {

bool object_keys::add_member(std::string_view key) {
    for (std::size_t i = open_.back(); i < members_.size(); ++i)
        if (std::string_view(keys_.data() + members_[i].key_at, members_[i].key_size) == key) return false;
    members_.push_back({static_cast<std::uint32_t>(keys_.size()), static_cast<std::uint32_t>(key.size())});
    keys_.append(key);
    return true;
}

void object_keys::close_object() {
    const std::uint32_t first = open_.back();
    open_.pop_back();
    if (first < members_.size()) keys_.resize(members_[first].key_at);
    members_.resize(first);
}

}  // namespace obs::domain::detail
