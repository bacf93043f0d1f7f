// `ckpt dump`: hold the target in ptrace-stops, have /dev/ckpt stream its
// image into a file or stdout, let the target go, put the file in place,
// report.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/ckpt.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>

#include "commands.h"
#include "format_util.h"
#include "image_format.h"
#include "image_output.h"
#include "interrupt.h"
#include "json.h"
#include "procfs.h"
#include "progress.h"
#include "target_stop.h"

namespace ckpt {
namespace {

constexpr const char* kDevicePath = "/dev/ckpt";

// Owns the device fd.
class Device {
public:
    static Expected<Device> open() {
        int fd = ::open(kDevicePath, O_RDWR | O_CLOEXEC);
        if (fd >= 0) return Device(fd);
        const int err = errno;
        if (err == ENOENT || err == ENODEV || err == ENXIO)
            return io_error(std::string(kDevicePath) + ": no such device: load the module with `modprobe ckpt` (or `insmod ckpt.ko`)");
        if (err == EACCES || err == EPERM)
            return io_error(std::string(kDevicePath) + ": " + std::strerror(err) +
                            ": run as root or with CAP_CHECKPOINT_RESTORE");
        return io_error(std::string(kDevicePath) + ": " + std::strerror(err));
    }
    Device(Device&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;
    ~Device() {
        if (fd_ >= 0) ::close(fd_);
    }
    int fd() const { return fd_; }

private:
    explicit Device(int fd) : fd_(fd) {}
    int fd_;
};

// What each errno of CKPT_IOC_CHECKPOINT means (README.md, "The ioctl").
std::string errno_hint(int err, const ckpt_checkpoint_args& args) {
    switch (err) {
    case EBUSY:
        return "a thread of the target ran, exited or appeared during the dump, or another process shares its "
               "memory";
    case ESRCH: return "no such process, or it has exited";
    case EINVAL:
        if (args.flags & (CKPT_CHECKPOINT_CRC32C | CKPT_CHECKPOINT_XXH64))
            return "a kernel thread, or the module rejected the request (a module before format 1.2 knows no "
                   "--checksum) or the output fd";
        return "a kernel thread, or the module rejected the request or the output fd";
    case EPERM: return "need root or CAP_CHECKPOINT_RESTORE, and ckpt must trace every thread of the target";
    case EACCES: return "need root, CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN";
    case EOPNOTSUPP: return "unsupported mapping at " + hex(args.err_addr) + " (hugetlb cannot be dumped)";
    case EIO: return "a page that holds data could not be read";
    case EBADF: return "the output is not open for writing";
    case EAGAIN: return "the output is non-blocking and would block";
    case ENOSPC: return "no space left for the image";
    case EPIPE: return "the reader of the output pipe went away";
    case EINTR: return "interrupted";
    case ENOTTY: return "/dev/ckpt does not know this ioctl: module and tool versions differ";
    case ENOMEM: return "the kernel ran out of memory";
    default: return "";
    }
}

void print_summary(const DumpOptions& options, const ImageOutput& out, const ckpt_checkpoint_args& args,
                   double seconds, const TargetStop& stop) {
    std::fprintf(stderr, "ckpt: dumped pid %d to %s: %s (%llu bytes), %llu VMAs, %llu pages in %s\n",
                 int(options.pid), out.name().c_str(), human_bytes(args.bytes).c_str(),
                 static_cast<unsigned long long>(args.bytes), static_cast<unsigned long long>(args.nr_vmas),
                 static_cast<unsigned long long>(args.nr_pages), seconds_string(seconds).c_str());
    const double down = std::chrono::duration<double>(stop.downtime()).count();
    switch (stop.mode()) {
    case StopMode::StoppedByUs:
        std::fprintf(stderr, "ckpt: downtime %s%s\n", seconds_string(down).c_str(),
                     options.leave_stopped ? " so far: target left stopped" : "");
        break;
    case StopMode::AlreadyStopped:
        std::fprintf(stderr, "ckpt: downtime none: target was already stopped and stays stopped\n");
        break;
    case StopMode::Frozen:
        std::fprintf(stderr, "ckpt: downtime none: target is frozen by its cgroup and stays frozen\n");
        break;
    case StopMode::Live:
        std::fprintf(stderr, "ckpt: downtime none: live dump, the image may be inconsistent\n");
        break;
    }
    std::fprintf(stderr, "ckpt: %llu pages scanned, peak kernel memory %s\n",
                 static_cast<unsigned long long>(args.pages_scanned), human_bytes(args.peak_kmem).c_str());
}

// --stats: the figures of a successful dump, for scripts and benchmarks.
Status write_stats(const std::string& path, const ckpt_checkpoint_args& args,
                   std::chrono::nanoseconds ioctl_time, const TargetStop& stop) {
    const auto down = stop.mode() == StopMode::StoppedByUs ? stop.downtime() : TargetStop::Clock::duration{};
    JsonWriter json;
    json.begin_object();
    json.field("bytes", args.bytes);
    json.field("vmas", args.nr_vmas);
    json.field("pages", args.nr_pages);
    json.field("pages_scanned", args.pages_scanned);
    json.field("peak_kmem", args.peak_kmem);
    json.field("vma_ns", args.vma_ns);
    json.field("scan_ns", args.scan_ns);
    json.field("copy_ns", args.copy_ns);
    json.field("write_ns", args.write_ns);
    json.field("ioctl_ns", static_cast<long long>(ioctl_time.count()));
    json.field("downtime_ns",
               static_cast<long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(down).count()));
    json.end_object();
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) return io_error(path + ": " + std::strerror(errno));
    const std::string text = json.str() + "\n";
    const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    if (std::fclose(f) != 0 || !written) return io_error(path + ": write failed");
    return ok_status();
}

int fail(const Error& error) {
    print_error(error.message);
    return exit_code_for(error);
}

}  // namespace

int run_dump(const DumpOptions& options) {
    if (options.pid == ::getpid()) return fail(usage_error("ckpt cannot checkpoint itself"));
    if (options.output == "-" && ::isatty(STDOUT_FILENO))
        return fail(usage_error("refusing to write an image to a terminal: redirect stdout or use -o FILE"));

    auto device = Device::open();
    if (!device) return fail(device.error());

    auto kthread = is_kernel_thread(options.pid);
    if (!kthread) return fail(kthread.error());
    if (*kthread)
        return fail(io_error("pid " + std::to_string(options.pid) +
                             " is a kernel thread: only user processes can be checkpointed"));

    install_interrupt_handlers();
    // A closed output pipe must surface as EPIPE from the ioctl, not kill us
    // in the middle of the dump.
    ::signal(SIGPIPE, SIG_IGN);

    auto out = ImageOutput::open(options.output);
    if (!out) return fail(out.error());

    // Live: the module still wants every thread traced by the caller.
    const Hold hold = options.live ? Hold::Trace : Hold::Stop;
    auto stop = TargetStop::acquire(options.pid, {hold, options.stop_timeout});
    if (!stop) return fail(stop.error());
    // The module checks that the thread calling the ioctl is the tracer.
    // ckpt does all of this on its main thread; say so if that ever changes.
    if (pid_t(::syscall(SYS_gettid)) != stop->tracer())
        return fail(io_error("internal error: the ioctl would not come from the thread that traces the target"));

    ckpt_checkpoint_args args{};
    args.size = sizeof args;
    args.flags = options.live ? CKPT_CHECKPOINT_LIVE : 0;
    if (options.checksum)
        args.flags |= *options.checksum == CKPT_CSUM_XXH64 ? CKPT_CHECKPOINT_XXH64 : CKPT_CHECKPOINT_CRC32C;
    args.pid = options.pid;
    args.fd = out->fd();

    const auto started = TargetStop::Clock::now();
    int rc, err;
    {
        std::optional<ProgressMeter> meter;
        if (!options.quiet && out->is_regular() && ::isatty(STDERR_FILENO)) meter.emplace(out->fd());
        // Never retried: after EINTR part of an image may already be in the fd.
        rc = ::ioctl(device->fd(), CKPT_IOC_CHECKPOINT, &args);
        err = errno;
    }
    const auto ioctl_time = TargetStop::Clock::now() - started;
    const double seconds = std::chrono::duration<double>(ioctl_time).count();

    if (rc != 0) {
        Status resumed = stop->resume();  // even with --leave-stopped: the dump failed
        std::string msg = "checkpoint of pid " + std::to_string(options.pid) + " failed: " + std::strerror(err);
        std::string hint = errno_hint(err, args);
        if (!hint.empty()) msg += ": " + hint;
        if (args.err_addr != 0 && err != EOPNOTSUPP) msg += ": failed at VMA " + hex(args.err_addr);
        if (args.bytes != 0) msg += " (" + std::to_string(args.bytes) + " bytes written before the failure)";
        print_error(msg);
        if (!resumed) print_error(resumed.error().message);
        return kExitSystem;
    }

    if (Status released = options.leave_stopped ? stop->keep_stopped() : stop->resume(); !released) {
        print_error(released.error().message);
        return kExitSystem;
    }

    // The module reports what it wrote; a file of another size means
    // something else wrote to it too: not an image to keep.
    if (out->is_private_file()) {
        struct stat st {};
        if (::fstat(out->fd(), &st) == 0 && uint64_t(st.st_size) != args.bytes) {
            print_error(out->name() + ": the file holds " + std::to_string(st.st_size) +
                        " bytes but the module wrote " + std::to_string(args.bytes) + ": not kept");
            return kExitProblem;
        }
    }
    if (Status committed = out->commit(); !committed) return fail(committed.error());
    if (!options.quiet) print_summary(options, *out, args, seconds, *stop);
    if (!options.stats.empty()) {
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(ioctl_time);
        if (Status stats = write_stats(options.stats, args, ns, *stop); !stats) {
            print_error(stats.error().message + " (the image itself was written)");
            return kExitSystem;
        }
    }
    return kExitOk;
}

}  // namespace ckpt
