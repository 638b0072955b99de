// POSIX file helpers for backups and restores (see file_io.hpp).
#include "backup/file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

namespace obs::backup {

namespace {

[[noreturn]] void throw_errno(const std::string& what, const std::string& path) {
    throw std::system_error(errno, std::generic_category(), what + " " + path);
}

}  // namespace

unique_fd::~unique_fd() {
    if (fd_ >= 0) ::close(fd_);
}

unique_fd& unique_fd::operator=(unique_fd&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = other.release();
    }
    return *this;
}

unique_fd open_for_reading(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_errno("cannot open", path);
    return unique_fd(fd);
}

unique_fd open_for_writing(const std::string& path, bool exclusive) {
    const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC);
    const int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) throw_errno("cannot create", path);
    return unique_fd(fd);
}

std::size_t read_some(int fd, char* buffer, std::size_t n, const std::string& path) {
    for (;;) {
        const ssize_t got = ::read(fd, buffer, n);
        if (got >= 0) return static_cast<std::size_t>(got);
        if (errno != EINTR) throw_errno("cannot read", path);
    }
}

void write_all(int fd, const char* data, std::size_t n, const std::string& path) {
    while (n > 0) {
        const ssize_t put = ::write(fd, data, n);
        if (put < 0) {
            if (errno == EINTR) continue;
            throw_errno("cannot write", path);
        }
        data += put;
        n -= static_cast<std::size_t>(put);
    }
}

void sync_fd(int fd, const std::string& path) {
    if (::fsync(fd) != 0) throw_errno("cannot fsync", path);
}

void write_behind(int fd, std::uint64_t previous_offset, std::uint64_t offset, std::uint64_t length) {
    const auto at = static_cast<off64_t>(offset);
    ::sync_file_range(fd, at, static_cast<off64_t>(length), SYNC_FILE_RANGE_WRITE);
    if (offset > previous_offset) {
        const auto before = static_cast<off64_t>(previous_offset);
        const auto span = static_cast<off64_t>(offset - previous_offset);
        ::sync_file_range(fd, before, span,
                          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
        ::posix_fadvise(fd, before, span, POSIX_FADV_DONTNEED);
    }
}

void sync_file(const std::string& path) {
    unique_fd fd = open_for_reading(path);
    sync_fd(fd.get(), path);
}

void sync_parent_dir(const std::string& path) {
    std::string dir = std::filesystem::path(path).parent_path().string();
    if (dir.empty()) dir = ".";
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw_errno("cannot open folder", dir);
    unique_fd owner(fd);
    sync_fd(fd, dir);
}

std::uint64_t file_size(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw_errno("cannot stat", path);
    return static_cast<std::uint64_t>(st.st_size);
}

remove_guard::~remove_guard() {
    if (path_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

}  // namespace obs::backup
