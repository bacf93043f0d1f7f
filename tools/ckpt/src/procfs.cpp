#include "procfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace ckpt {
namespace {

// include/linux/sched.h
constexpr unsigned long kPfIoWorker = 0x00000010;
constexpr unsigned long kPfKthread = 0x00200000;

std::string errno_text(int err) { return std::strerror(err); }

// Fields of a /proc/.../stat line after the ")" that closes comm (comm may
// itself contain spaces and parentheses).
std::vector<std::string> stat_fields_after_comm(const std::string& line) {
    std::vector<std::string> fields;
    size_t close = line.rfind(')');
    if (close == std::string::npos) return fields;
    std::istringstream in(line.substr(close + 1));
    std::string f;
    while (in >> f) fields.push_back(f);
    return fields;
}

bool parse_header_line(const std::string& line, ProcVma* vma) {
    unsigned long long start, end, offset, inode;
    unsigned major, minor;
    char perms[8];
    int name_pos = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %x:%x %llu%n", &start, &end, perms, &offset, &major, &minor,
                    &inode, &name_pos) != 7)
        return false;
    vma->start = start;
    vma->end = end;
    vma->perms = perms;
    vma->offset = offset;
    vma->dev_major = major;
    vma->dev_minor = minor;
    vma->inode = inode;
    size_t pos = size_t(name_pos);
    while (pos < line.size() && line[pos] == ' ') pos++;
    vma->name = line.substr(pos);
    return true;
}

bool is_header_line(const std::string& line) {
    // "7f..-7f.. rw-p ..." while attribute lines look like "Rss:  4 kB".
    size_t dash = line.find('-');
    if (dash == 0 || dash == std::string::npos) return false;
    return std::all_of(line.begin(), line.begin() + long(dash), [](char c) { return std::isxdigit(uint8_t(c)); });
}

// Reads a whole file; on failure returns false with *err = errno.
bool slurp(const std::string& path, std::string* text, int* err) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *err = errno;
        return false;
    }
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            *err = errno;
            ::close(fd);
            return false;
        }
        if (n == 0) break;
        text->append(buf, size_t(n));
    }
    ::close(fd);
    return true;
}

}  // namespace

Expected<std::string> read_text_file(const std::string& path) {
    std::string text;
    int err = 0;
    if (!slurp(path, &text, &err)) return io_error(path + ": " + errno_text(err));
    return text;
}

pid_t first_live_thread(pid_t pid, const std::vector<ThreadState>& threads) {
    for (const ThreadState& t : threads)
        if (t.state != 'Z' && t.state != 'X' && !t.io_worker) return t.tid;
    return pid;
}

Expected<std::vector<ThreadState>> read_thread_states(pid_t pid) {
    const std::string dir = "/proc/" + std::to_string(pid) + "/task";
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
        if (errno == ENOENT) return io_error("pid " + std::to_string(pid) + ": no such process");
        return io_error(dir + ": " + errno_text(errno));
    }
    std::vector<ThreadState> states;
    while (struct dirent* e = ::readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        auto text = read_text_file(dir + "/" + e->d_name + "/stat");
        if (!text) continue;  // the thread exited meanwhile
        // After comm: state ppid pgrp session tty_nr tpgid flags ...
        auto fields = stat_fields_after_comm(*text);
        if (fields.size() < 7 || fields[0].size() != 1) continue;
        const unsigned long flags = std::strtoul(fields[6].c_str(), nullptr, 10);
        states.push_back({pid_t(std::atoi(e->d_name)), fields[0][0], (flags & kPfIoWorker) != 0});
    }
    ::closedir(d);
    if (states.empty()) return io_error("pid " + std::to_string(pid) + ": no such process");
    return states;
}

Expected<bool> is_kernel_thread(pid_t pid) {
    const std::string path = "/proc/" + std::to_string(pid) + "/stat";
    std::string text;
    int err = 0;
    if (!slurp(path, &text, &err)) {
        if (err == ENOENT || err == ESRCH) return io_error("pid " + std::to_string(pid) + ": no such process");
        return io_error(path + ": " + errno_text(err));
    }
    // After comm: state ppid pgrp session tty_nr tpgid flags ...
    auto fields = stat_fields_after_comm(text);
    if (fields.size() < 7) return io_error("/proc/" + std::to_string(pid) + "/stat: unexpected format");
    unsigned long flags = std::strtoul(fields[6].c_str(), nullptr, 10);
    return (flags & kPfKthread) != 0;
}

bool ProcVma::has_vm_flag(const char* flag) const {
    return std::find(vm_flags.begin(), vm_flags.end(), flag) != vm_flags.end();
}

Expected<std::vector<ProcVma>> parse_smaps(const std::string& text) {
    std::vector<ProcVma> vmas;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (is_header_line(line)) {
            ProcVma vma;
            if (!parse_header_line(line, &vma)) return io_error("smaps: cannot parse line: " + line);
            vmas.push_back(std::move(vma));
            continue;
        }
        if (vmas.empty()) continue;
        ProcVma& vma = vmas.back();
        unsigned long long kb;
        if (std::sscanf(line.c_str(), "Rss: %llu kB", &kb) == 1) {
            vma.rss_kb = kb;
        } else if (std::sscanf(line.c_str(), "Swap: %llu kB", &kb) == 1) {
            vma.swap_kb = kb;
        } else if (line.rfind("VmFlags:", 0) == 0) {
            std::istringstream flags(line.substr(8));
            std::string f;
            while (flags >> f) vma.vm_flags.push_back(f);
        }
    }
    return vmas;
}

Expected<std::vector<ProcVma>> read_smaps(pid_t pid) {
    auto text = read_text_file("/proc/" + std::to_string(pid) + "/smaps");
    if (!text) return text.error();
    return parse_smaps(*text);
}

Expected<ProcFile> ProcFile::open(pid_t pid, const char* name) {
    std::string path = "/proc/" + std::to_string(pid) + "/" + name;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        std::string why = path + ": " + errno_text(err);
        if (err == EACCES || err == EPERM) why += ": need root or ptrace access to the target";
        return io_error(why);
    }
    return ProcFile(fd, std::move(path));
}

ProcFile::ProcFile(ProcFile&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) { other.fd_ = -1; }

ProcFile& ProcFile::operator=(ProcFile&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = other.fd_;
        path_ = std::move(other.path_);
        other.fd_ = -1;
    }
    return *this;
}

ProcFile::~ProcFile() {
    if (fd_ >= 0) ::close(fd_);
}

ssize_t ProcFile::read_at(void* buf, size_t len, uint64_t offset) const {
    auto* out = static_cast<uint8_t*>(buf);
    size_t done = 0;
    while (done < len) {
        // /proc/PID/mem and pagemap take user addresses as offsets; the
        // kernel treats them as unsigned, so cast through off_t is fine.
        ssize_t n = ::pread(fd_, out + done, len - done, off_t(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return done ? ssize_t(done) : -errno;
        if (n == 0) break;
        done += size_t(n);
    }
    return ssize_t(done);
}

}  // namespace ckpt
