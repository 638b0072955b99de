// The keys of the objects open in a payload on the streaming fast path
// (plain_batch.cpp), so that a key repeated within one object is refused
// as parse_json refuses it: "last one wins" would silently change what the
// agent sent. Only the open objects' keys are kept; an object's are
// forgotten when it closes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace obs::domain::detail {

class object_keys {
public:
    // An event's payload begins; the previous one is forgotten.
    void begin_payload() {
        keys_.clear();
        members_.clear();
        open_.clear();
    }

    // An object opens in the payload (the payload itself included).
    void open_object() { open_.push_back(static_cast<std::uint32_t>(members_.size())); }

    // The innermost open object has a member `key` (unescaped). False, and
    // nothing recorded, when the object already has that key.
    bool add_member(std::string_view key);

    // Members of the innermost open object so far.
    std::size_t open_members() const { return members_.size() - open_.back(); }

    // The innermost open object closes.
    void close_object();

private:
    struct member {
        std::uint32_t key_at;  // its key in keys_
        std::uint32_t key_size;
    };

    std::string keys_;                 // the open objects' keys, innermost last
    std::vector<member> members_;      // of the open objects, innermost last
    std::vector<std::uint32_t> open_;  // per open object: its first entry in members_
};

}  // namespace obs::domain::detail
