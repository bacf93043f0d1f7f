// Readers for the /proc files ckpt looks at: task states, smaps, pagemap,
// mem.  All of them fail with Io errors (exit 3) when /proc refuses.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "expected.h"

namespace ckpt {

struct ThreadState {
    pid_t tid = 0;
    char state = '?';  // third field of /proc/PID/task/TID/stat
    // PF_IO_WORKER: an io_uring worker.  It shows up as a thread of the
    // process but runs only in the kernel and cannot be traced.
    bool io_worker = false;
};

// States of every thread of pid's thread group (pid may name any thread of
// it).  Threads that exit while the directory is read are skipped.
Expected<std::vector<ThreadState>> read_thread_states(pid_t pid);

// The first thread of `threads` that is alive (not a zombie, not an
// io_uring worker), through which the module describes the process: a
// leader that left with pthread_exit() has no mm, fs or files.  `pid` if
// none is.
pid_t first_live_thread(pid_t pid, const std::vector<ThreadState>& threads);

// True if pid is a kernel thread (PF_KTHREAD in /proc/PID/stat).
Expected<bool> is_kernel_thread(pid_t pid);

// Whole small text file (for /proc and cgroupfs); Io error with errno text.
Expected<std::string> read_text_file(const std::string& path);

// One VMA of /proc/PID/smaps.
struct ProcVma {
    uint64_t start = 0;
    uint64_t end = 0;
    std::string perms;      // "rw-p"
    uint64_t offset = 0;
    uint32_t dev_major = 0;
    uint32_t dev_minor = 0;
    uint64_t inode = 0;
    std::string name;       // as /proc shows it ("\012" escapes included)
    uint64_t rss_kb = 0;
    uint64_t swap_kb = 0;
    std::vector<std::string> vm_flags;  // "rd", "wr", "io", ...

    bool has_vm_flag(const char* flag) const;
};

Expected<std::vector<ProcVma>> read_smaps(pid_t pid);
// Parses smaps text; exposed for tests.
Expected<std::vector<ProcVma>> parse_smaps(const std::string& text);

// /proc/PID/pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst).
constexpr uint64_t kPagemapPresent = uint64_t(1) << 63;
constexpr uint64_t kPagemapSwapped = uint64_t(1) << 62;
constexpr uint64_t kPagemapFileOrSharedAnon = uint64_t(1) << 61;
constexpr uint64_t kPagemapExclusive = uint64_t(1) << 56;

// An open /proc/PID file read with pread; owns the fd.
class ProcFile {
public:
    static Expected<ProcFile> open(pid_t pid, const char* name);
    ProcFile(ProcFile&& other) noexcept;
    ProcFile& operator=(ProcFile&& other) noexcept;
    ProcFile(const ProcFile&) = delete;
    ProcFile& operator=(const ProcFile&) = delete;
    ~ProcFile();

    // pread until len bytes or EOF/error; returns bytes read or -errno.
    ssize_t read_at(void* buf, size_t len, uint64_t offset) const;
    const std::string& path() const { return path_; }

private:
    ProcFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
    int fd_ = -1;
    std::string path_;
};

}  // namespace ckpt
