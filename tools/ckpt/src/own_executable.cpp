#include "own_executable.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "procfs.h"
#include "raw_syscall.h"

namespace ckpt {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

// One mapping moved out from under its file.  Between the copy and the
// move only raw system calls run: nothing may write the program's data
// there (errno included), or the copy would miss it.
Status copy_in_place(const FileMapping& m) {
    const size_t len = m.end - m.start;
    void* copy = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (copy == MAP_FAILED) return io_error("cannot copy ckpt's own executable: mmap: " + errno_text(errno));
    // A PROT_NONE gap between segments has nothing to copy (or read).
    if (m.prot & PROT_READ) std::memcpy(copy, reinterpret_cast<const void*>(m.start), len);
    long ret = raw_syscall(SYS_mprotect, long(copy), long(len), m.prot);
    if (ret == 0)
        ret = raw_syscall(SYS_mremap, long(copy), long(len), long(len), MREMAP_MAYMOVE | MREMAP_FIXED, long(m.start));
    if (ret < 0) {
        ::munmap(copy, len);
        return io_error("cannot copy ckpt's own executable: " + errno_text(int(-ret)));
    }
    return ok_status();
}

}  // namespace

std::vector<FileMapping> mappings_of_file(const std::string& maps, uint64_t dev, uint64_t ino) {
    std::vector<FileMapping> out;
    size_t at = 0;
    while (at < maps.size()) {
        size_t eol = maps.find('\n', at);
        if (eol == std::string::npos) eol = maps.size();
        const std::string line = maps.substr(at, eol - at);
        at = eol + 1;
        unsigned long long start, end, inode;
        unsigned major, minor;
        char perms[5] = {};
        if (std::sscanf(line.c_str(), "%llx-%llx %4s %*x %x:%x %llu", &start, &end, perms, &major, &minor, &inode) !=
            6)
            continue;
        if (inode != ino || makedev(major, minor) != dev) continue;
        const int prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
                         (perms[2] == 'x' ? PROT_EXEC : 0);
        out.push_back({start, end, prot});
    }
    return out;
}

Status detach_own_executable() {
    struct stat st {};
    if (::stat("/proc/self/exe", &st) != 0) return io_error("/proc/self/exe: " + errno_text(errno));
    auto maps = read_text_file("/proc/self/maps");
    if (!maps) return maps.error();
    for (const FileMapping& m : mappings_of_file(*maps, st.st_dev, st.st_ino)) {
        Status moved = copy_in_place(m);
        if (!moved) return moved;
    }
    return ok_status();
}

bool may_set_own_executable() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    if (::syscall(SYS_capget, &header, data) != 0) return false;
    return data[CAP_TO_INDEX(CAP_SYS_RESOURCE)].effective & CAP_TO_MASK(CAP_SYS_RESOURCE);
}

Status set_own_executable(const std::string& path) {
    // O_PATH would do for the kernel, but the open checks the path names
    // something that can be opened at all, as an exec would.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io_error("the executable " + path + ": " + errno_text(errno));
    const int ret = ::prctl(PR_SET_MM, PR_SET_MM_EXE_FILE, fd, 0, 0);
    const int err = errno;
    ::close(fd);
    if (ret != 0)
        return io_error("cannot make /proc/PID/exe name " + path + ": " + errno_text(err) +
                        (err == EPERM ? " (PR_SET_MM_EXE_FILE needs CAP_SYS_RESOURCE)" : ""));
    return ok_status();
}

}  // namespace ckpt
