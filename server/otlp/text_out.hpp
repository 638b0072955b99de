// An append-only text written into a std::string, for the writers of
// event_finish.cpp, which append a few bytes at a time (a quote, a comma, a
// key) hundreds of times per event. std::string's own append and push_back
// are calls into the shared library (it is an extern template) that check
// the capacity each time; here the string is grown ahead of the text, and
// appending is an inline bounds check and a copy. The string holds exactly
// the text again once the text_out is gone.
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
    ~text_out() { s_.resize(len_); }
    text_out(const text_out&) = delete;
    text_out& operator=(const text_out&) = delete;

    void put(char c) {
        if (len_ == cap_) grow(1);
        data_[len_++] = c;
    }
    void put(std::string_view text) {
        if (cap_ - len_ < text.size()) grow(text.size());
        std::memcpy(data_ + len_, text.data(), text.size());
        len_ += text.size();
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
    char* data_ = nullptr;
    std::size_t len_ = 0;
    std::size_t cap_ = 0;
};

}  // namespace obs::otlp
