// An append-only text written into a std::string, for the writers of
// event_finish.cpp, which append a few bytes at a time (a quote, a comma, a
// key) hundreds of times per event. std::string's own append and push_back
// are calls into the shared library (it is an extern template) that check
// the capacity each time; here the string is grown ahead of the text, and
// appending is an inline bounds check and a copy. The string holds exactly
// the text again once the text_out is gone, unless it was made over a
// scratch string (text_out::scratch), whose bytes are only room to write in
// and stay as they are (a string emptied and grown again for every text
// would have its new room zero-filled each time).
//
// Thread-safety: none; one text_out per string at a time.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace obs::otlp {

class text_out {
public:
    // Appends after what `s` holds already.
    explicit text_out(std::string& s) : s_(s), len_(s.size()) {
        s_.resize(s_.capacity());  // the room it has already
        refresh();
    }
    // Writes from the start of `s`, whose size is the room to write in; the
    // text is view(0) while this text_out lives.
    struct scratch_tag {};
    static constexpr scratch_tag scratch{};
    text_out(std::string& s, scratch_tag) : s_(s), keep_size_(true) { refresh(); }
    ~text_out() {
        if (!keep_size_) s_.resize(len_);
    }
    text_out(const text_out&) = delete;
    text_out& operator=(const text_out&) = delete;

    std::size_t size() const { return len_; }
    // The text from byte `from` on; valid until the next append.
    std::string_view view(std::size_t from) const { return {data_ + from, len_ - from}; }

    void put(char c) {
        if (len_ == cap_) grow(1);
        data_[len_++] = c;
    }
    void put(std::string_view text) {
        if (cap_ - len_ < text.size()) grow(text.size());
        std::memcpy(data_ + len_, text.data(), text.size());
        len_ += text.size();
    }
    // Appends `n` bytes of this text from `from` on. REQUIRES: from + n <= size().
    void put_own(std::size_t from, std::size_t n) {
        if (cap_ - len_ < n) grow(n);
        std::memcpy(data_ + len_, data_ + from, n);
        len_ += n;
    }
    // Removes `n` bytes from `from` on. REQUIRES: from + n <= size().
    void cut(std::size_t from, std::size_t n) {
        std::memmove(data_ + from, data_ + from + n, len_ - from - n);
        len_ -= n;
    }

private:
    void grow(std::size_t more) {
        s_.resize(std::max({std::size_t{256}, 2 * cap_, len_ + more}));
        refresh();
    }
    void refresh() {
        data_ = s_.data();
        cap_ = s_.size();
    }

    std::string& s_;
    bool keep_size_ = false;
    char* data_ = nullptr;
    std::size_t len_ = 0;
    std::size_t cap_ = 0;
};

}  // namespace obs::otlp
