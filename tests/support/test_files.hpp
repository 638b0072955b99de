// Test data and file inspection shared by the suites that store bytes on
// disk (the artifact store, the artifact routes, the end-to-end artifacts):
// reproducible pseudo-random content, whole-file reads, and a count of the
// files under a folder, which is how the tests see that nothing was left
// behind. Plain C++ and std::filesystem only, so any suite can link it.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace obs::test {

// `n` pseudo-random bytes, the same for the same `seed` on every run (so a
// failure reproduces, and equal seeds give equal, deduplicated content).
std::string random_bytes(std::size_t n, unsigned seed);

// The whole content of the file at `path`; empty when it cannot be opened.
std::string file_bytes(const std::filesystem::path& path);

// Regular files under `dir`, recursively; 0 when `dir` does not exist.
std::size_t count_files(const std::filesystem::path& dir);

}  // namespace obs::test
