// Prometheus' text exposition format 0.0.4, written by /metrics: a family
// (its # HELP and # TYPE lines) followed by its samples, label values
// escaped, numbers printed so they read back exactly (a Unix time in seconds
// keeps its milliseconds), histograms as their _bucket{le=...}, _sum and
// _count series. No I/O: the route sends the text.
#pragma once

#include "persistence/histogram.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace obs::server {

// `name="value"` with the value escaped (backslash, double quote, line feed).
std::string label(std::string_view name, std::string_view value);

class exposition {
public:
    // Starts a family. `type`: counter, gauge or histogram. `help` must not
    // hold a line feed or a backslash (ours are literals).
    void family(std::string_view name, std::string_view type, std::string_view help);

    // One sample of the current family; `labels` is "" or label()s joined by ','.
    void sample(std::string_view name, std::string_view labels, double value);
    void sample(std::string_view name, std::string_view labels, std::uint64_t value);
    void sample(std::string_view name, std::string_view labels, std::int64_t value);

    // family() then one unlabelled sample.
    template <class T>
    void single(std::string_view name, std::string_view type, std::string_view help, T value) {
        family(name, type, help);
        sample(name, "", value);
    }

    // The series of one histogram of the current family (a family of type
    // histogram): cumulative buckets with `le`, then _sum and _count.
    void histogram(std::string_view name, std::string_view labels, const persistence::histogram_snapshot& h);

    const std::string& text() const { return out_; }

private:
    void line(std::string_view name, std::string_view labels, std::string_view value);
    std::string out_;
};

// Decimal text that reads back as `v`: the shortest fixed-point form when it
// is under 64 characters, else the shortest exponent form ("+Inf", "-Inf",
// "NaN" as Prometheus spells them).
std::string format_number(double v);

}  // namespace obs::server
