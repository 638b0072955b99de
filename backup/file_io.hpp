// The few POSIX file operations backups need, with errors thrown as
// std::system_error naming the path: an owning file descriptor, whole
// writes, fsync of a file and of its directory, and a guard that removes a
// temporary file or folder on every path out of a scope.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace obs::backup {

// Owns one file descriptor; closes it on destruction.
class unique_fd {
public:
    unique_fd() = default;
    explicit unique_fd(int fd) noexcept : fd_(fd) {}
    ~unique_fd();
    unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {}
    unique_fd& operator=(unique_fd&& other) noexcept;
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;

    int get() const noexcept { return fd_; }
    int release() noexcept {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }

private:
    int fd_ = -1;  // -1: owns nothing
};

// Opens `path` read-only. Throws std::system_error.
unique_fd open_for_reading(const std::string& path);

// Creates (or truncates) `path` for writing, mode 0644; with `exclusive`
// an existing file is an error. Throws std::system_error.
unique_fd open_for_writing(const std::string& path, bool exclusive = false);

// Reads up to `n` bytes (retrying EINTR); 0 at end of file. Throws.
std::size_t read_some(int fd, char* buffer, std::size_t n, const std::string& path);

// Writes all `n` bytes. Throws std::system_error.
void write_all(int fd, const char* data, std::size_t n, const std::string& path);

// fsync(fd). Throws std::system_error.
void sync_fd(int fd, const std::string& path);

// For a long sequential write: starts writeback of [offset, offset + length)
// and waits until the range written before it, [previous_offset, offset), is
// on disk, then drops that range from the page cache. The dirty backlog stays
// at about two ranges, so neither the final fsync nor the database writer's
// own syncs wait behind hundreds of MiB. Best effort: errors surface at the
// final fsync.
void write_behind(int fd, std::uint64_t previous_offset, std::uint64_t offset, std::uint64_t length);

// Opens `path`, fsyncs it and closes it. Throws std::system_error.
void sync_file(const std::string& path);

// fsyncs the folder holding `path`, so that a create or rename in it is
// durable. Throws std::system_error.
void sync_parent_dir(const std::string& path);

// The size of the file at `path`. Throws std::system_error.
std::uint64_t file_size(const std::string& path);

// Removes a file or a whole folder when the scope ends, unless release()d.
// Removal errors are ignored: the guard runs on failure paths.
class remove_guard {
public:
    explicit remove_guard(std::string path) : path_(std::move(path)) {}
    ~remove_guard();
    remove_guard(const remove_guard&) = delete;
    remove_guard& operator=(const remove_guard&) = delete;

    const std::string& path() const noexcept { return path_; }
    void release() noexcept { path_.clear(); }

private:
    std::string path_;  // empty once released
};

}  // namespace obs::backup
