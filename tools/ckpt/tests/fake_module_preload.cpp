// LD_PRELOAD stand-in for ckpt.ko, so that `ckpt dump` can be tested end to
// end on a host without the module.  Opening /dev/ckpt gives /dev/null;
// CKPT_IOC_CHECKPOINT on that fd writes fake_dump()'s image into args->fd,
// following the module's contract for who may dump whom:
//   - every live thread of the target (not zombies, not io_uring workers)
//     traced by the very thread that calls the ioctl (/proc TracerPid is the
//     tracing thread's id), else EPERM;
//   - unless CKPT_CHECKPOINT_LIVE, every one of them in a ptrace-stop
//     (state 't'; SIGSTOP's 'T' is not enough), else EBUSY, and still so
//     with the same threads when the dump is done, else EBUSY.
// The image's checksum: XXH64 with CKPT_CHECKPOINT_XXH64, else CRC-32C;
// both flags are EINVAL.
//
// Environment knobs:
//   CKPT_FAKE_FAIL=ERRNO[:ERR_ADDR]  write part of the image, then fail
//   CKPT_FAKE_DELAY_MS=N             sleep before writing (SIGTERM tests)
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/ckpt.h>

#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "fake_dump.h"
#include "procfs.h"

namespace {

int g_device_fd = -1;

using OpenFn = int (*)(const char*, int, ...);
using IoctlFn = int (*)(int, unsigned long, ...);

int open_impl(const char* name, const char* path, int flags, mode_t mode) {
    static OpenFn real_open = reinterpret_cast<OpenFn>(dlsym(RTLD_NEXT, name));
    if (path && std::strcmp(path, "/dev/ckpt") == 0) {
        int fd = real_open("/dev/null", flags, mode);
        if (fd >= 0) g_device_fd = fd;
        return fd;
    }
    return real_open(path, flags, mode);
}

// Checks the caller's hold on pid as the module does; 0 or the errno.
// *held gets the threads held.
int check_hold(pid_t pid, bool live, std::vector<pid_t>* held) {
    auto states = ckpt::read_thread_states(pid);
    if (!states) return ESRCH;
    const std::string traced_by_me = "\nTracerPid:\t" + std::to_string(syscall(SYS_gettid)) + "\n";
    std::vector<char> held_states;
    held->clear();
    for (const auto& t : *states) {
        if (t.state == 'Z' || t.state == 'X' || t.io_worker) continue;
        auto status = ckpt::read_text_file("/proc/" + std::to_string(pid) + "/task/" + std::to_string(t.tid) + "/status");
        if (!status) continue;  // exited meanwhile
        if (status->find(traced_by_me) == std::string::npos) return EPERM;
        held->push_back(t.tid);
        held_states.push_back(t.state);
    }
    if (held->empty()) return ESRCH;
    if (live) return 0;
    for (char state : held_states)
        if (state != 't') return EBUSY;
    return 0;
}

int fail(int err) {
    errno = err;
    return -1;
}

// Writes everything or returns the errno.
int write_all(int fd, const uint8_t* data, size_t len, uint64_t* written) {
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        data += n;
        len -= size_t(n);
        *written += uint64_t(n);
    }
    return 0;
}

int fake_checkpoint(ckpt_checkpoint_args* args) {
    if (args->size < CKPT_CHECKPOINT_ARGS_SIZE_VER0 || (args->flags & ~CKPT_CHECKPOINT_FLAGS) ||
        args->reserved[0] || args->reserved[1])
        return fail(EINVAL);
    auto kthread = ckpt::is_kernel_thread(args->pid);
    if (!kthread) return fail(ESRCH);
    if (*kthread) return fail(EINVAL);
    // As the module: CRC-32C or XXH64 on request, not both; without either
    // the module picks by CPU, the fake always CRC-32C.
    const uint32_t checksum_flags = args->flags & (CKPT_CHECKPOINT_CRC32C | CKPT_CHECKPOINT_XXH64);
    if (checksum_flags == (CKPT_CHECKPOINT_CRC32C | CKPT_CHECKPOINT_XXH64)) return fail(EINVAL);
    ckpt::test::FakeDumpOptions options;
    options.checksum = checksum_flags == CKPT_CHECKPOINT_XXH64 ? CKPT_CSUM_XXH64 : CKPT_CSUM_CRC32C;
    const bool live = args->flags & CKPT_CHECKPOINT_LIVE;
    std::vector<pid_t> held;
    if (int err = check_hold(args->pid, live, &held)) return fail(err);

    if (const char* delay = std::getenv("CKPT_FAKE_DELAY_MS")) {
        timespec ts{0, 0};
        long ms = std::atol(delay);
        ts.tv_sec = ms / 1000;
        ts.tv_nsec = (ms % 1000) * 1000000;
        // A signal ends the sleep as it would end the module's work.
        if (nanosleep(&ts, nullptr) != 0) return fail(EINTR);
    }
    auto image = ckpt::test::fake_dump(args->pid, options);
    if (!image) return fail(EIO);
    if (!live) {
        // Held still all along: the same threads, each still in its stop.
        std::vector<pid_t> still;
        if (check_hold(args->pid, false, &still) != 0 || still != held) return fail(EBUSY);
    }

    uint64_t written = 0;
    if (const char* spec = std::getenv("CKPT_FAKE_FAIL")) {
        char* rest = nullptr;
        int err = int(std::strtol(spec, &rest, 10));
        if (rest && *rest == ':') args->err_addr = std::strtoull(rest + 1, nullptr, 0);
        (void)write_all(args->fd, image->data(), std::min<size_t>(4096, image->size()), &written);
        args->bytes = written;
        return fail(err);
    }
    int err = write_all(args->fd, image->data(), image->size(), &written);
    args->bytes = written;
    if (err) return fail(err);
    // The counts the module reports, read back from the image's TAIL.
    ckpt_tail tail;
    std::memcpy(&tail, image->data() + image->size() - sizeof tail, sizeof tail);
    args->nr_vmas = tail.nr_vmas;
    args->nr_pages = tail.nr_pages;
    args->pages_scanned = tail.nr_pages * 3;
    args->peak_kmem = 65536;
    return 0;
}

}  // namespace

extern "C" {

int open(const char* path, int flags, ...) {
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return open_impl("open", path, flags, mode);
}

int open64(const char* path, int flags, ...) {
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return open_impl("open64", path, flags, mode);
}

int ioctl(int fd, unsigned long request, ...) {
    static IoctlFn real_ioctl = reinterpret_cast<IoctlFn>(dlsym(RTLD_NEXT, "ioctl"));
    va_list ap;
    va_start(ap, request);
    void* arg = va_arg(ap, void*);
    va_end(ap);
    if (fd >= 0 && fd == g_device_fd && request == CKPT_IOC_CHECKPOINT)
        return fake_checkpoint(static_cast<ckpt_checkpoint_args*>(arg));
    return real_ioctl(fd, request, arg);
}

}  // extern "C"
