// `ckpt restore --restorer`: the process that becomes the restored one.
//
// In order: read the plan again (from the parent's memfd); set what belongs
// to the process and the thread and needs no memory (signal actions,
// limits, umask, cwd, name, descriptors, alternate stack, robust list);
// prepare everything the last steps need, so that nothing is allocated
// once the image's memory is in place (the heap's brk is then the image's);
// CKPT_IOC_RESTORE maps the image around this process's own mappings;
// move [vdso] and [vvar] to the image's addresses; rseq; and last, in one
// assembly sequence, the thread pointer, the FPU state and
// CKPT_IOC_RESTORE_FINISH, which unmaps this restorer and returns to user
// mode as the restored thread.
#include <asm/prctl.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/ckpt.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <initializer_list>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "commands.h"
#include "format_util.h"
#include "own_executable.h"
#include "record_checksum.h"
#include "raw_syscall.h"
#include "restore_creds.h"
#include "restore_plan.h"
#include "segments.h"
#include "vdso_proxy.h"

namespace ckpt {
namespace {

constexpr int kOverlap = 75;  // known to `ckpt restore`: try another restorer
constexpr int kFailed = 70;

// Regs indices (struct user_regs_struct).
enum { kRax = 10, kRip = 16, kFsBase = 21, kGsBase = 22, kDs = 23, kEs = 24 };
constexpr uint32_t kLdtEntries = 8192;  // LDT_ENTRIES

// Before the image's memory is in place.
[[noreturn]] void die(const std::string& message, int code = kFailed) {
    print_error("restore: " + message);
    ::_exit(code);
}

// Once the image's memory is in place (its brk: no allocation), write(2)
// alone.
[[noreturn]] void die_raw(const char* message, int code = kFailed) {
    const char prefix[] = "ckpt: restore: ";
    (void)!::write(2, prefix, sizeof prefix - 1);
    (void)!::write(2, message, std::strlen(message));
    (void)!::write(2, "\n", 1);
    ::_exit(code);
}

// Room for the module's report of VMA attributes: one entry per VMA at
// most, and this kernel maps no more than vm.max_map_count.
std::vector<ckpt_restore_advice> advice_room() {
    unsigned long n = 65530;  // the kernel's default
    if (FILE* f = std::fopen("/proc/sys/vm/max_map_count", "r")) {
        unsigned long v = 0;
        if (std::fscanf(f, "%lu", &v) == 1 && v > 0 && v <= (1ul << 22)) n = v;
        std::fclose(f);
    }
    return std::vector<ckpt_restore_advice>(n);
}

// What only madvise(2) and mlock(2) set on a VMA, which the module leaves
// to us (CKPT_VMA_F_ADVICE).  No allocation: the image's memory is in place.
void apply_advice(const ckpt_restore_advice& a) {
    static constexpr struct {
        uint64_t flag;
        int advice;
        const char* name;
    } kAdvice[] = {
        {CKPT_VMA_F_DONTCOPY, MADV_DONTFORK, "MADV_DONTFORK"},
        {CKPT_VMA_F_WIPEONFORK, MADV_WIPEONFORK, "MADV_WIPEONFORK"},
        {CKPT_VMA_F_DONTDUMP, MADV_DONTDUMP, "MADV_DONTDUMP"},
        {CKPT_VMA_F_HUGEPAGE, MADV_HUGEPAGE, "MADV_HUGEPAGE"},
        {CKPT_VMA_F_NOHUGEPAGE, MADV_NOHUGEPAGE, "MADV_NOHUGEPAGE"},
        {CKPT_VMA_F_MERGEABLE, MADV_MERGEABLE, "MADV_MERGEABLE"},
    };
    const char* failed = nullptr;
    for (const auto& k : kAdvice) {
        if ((a.vm_flags & k.flag) && ::madvise(reinterpret_cast<void*>(a.start), a.end - a.start, k.advice) != 0) {
            failed = k.name;
            break;
        }
    }
    if (!failed && (a.vm_flags & CKPT_VMA_F_LOCKED) &&
        ::syscall(SYS_mlock2, a.start, a.end - a.start, (a.vm_flags & CKPT_VMA_F_LOCKONFAULT) ? MLOCK_ONFAULT : 0) != 0)
        failed = "mlock2";
    if (!failed) return;
    char msg[160];
    std::snprintf(msg, sizeof msg, "%s on the VMA at %#llx-%#llx: %s", failed, static_cast<unsigned long long>(a.start),
                  static_cast<unsigned long long>(a.end), std::strerror(errno));
    die_raw(msg);
}

struct KernelSigaction {
    uint64_t handler, flags, restorer, mask;
};

void restore_signal_actions(const ckpt_process& p) {
    for (int sig = 1; sig <= CKPT_NR_SIGNALS; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        const ckpt_sigaction& a = p.action[sig - 1];
        KernelSigaction k{a.handler, a.flags, a.restorer, a.mask};
        if (::syscall(SYS_rt_sigaction, sig, &k, nullptr, 8) != 0)
            die("signal " + std::to_string(sig) + ": rt_sigaction: " + std::strerror(errno));
    }
}

void restore_limits(const ckpt_process& p) {
    for (int r = 0; r < CKPT_NR_RLIMITS; r++) {
        rlimit lim{rlim_t(p.rlim[r][0]), rlim_t(p.rlim[r][1])};
        if (::setrlimit(__rlimit_resource(r), &lim) != 0)
            die("limit " + std::to_string(r) + ": setrlimit: " + std::strerror(errno));
    }
}

// Regular files and directories reopened at their descriptors, offsets and
// flags, if they are still the same inode.
void reopen_files(const RestorePlan& plan, bool skip_fds) {
    for (const FileRecord& f : plan.files) {
        const ckpt_file& r = f.file;
        if (r.fd <= 2) continue;
        if (!restorable_file(f)) {
            if (skip_fds) continue;
            die("descriptor " + std::to_string(r.fd) + " cannot be restored");
        }
        const int flags = int(r.f_flags) & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY);
        const int fd = ::open(f.path.c_str(), flags | O_CLOEXEC);
        if (fd < 0) die("descriptor " + std::to_string(r.fd) + ": " + f.path + ": " + std::strerror(errno));
        struct stat st {};
        if (::fstat(fd, &st) != 0 || uint64_t(st.st_ino) != r.ino ||
            major(st.st_dev) != ((r.dev >> 8) & 0xfff) || minor(st.st_dev) != ((r.dev & 0xff) | ((r.dev >> 12) & 0xfff00)))
            die("descriptor " + std::to_string(r.fd) + ": " + f.path + " is not the file that was open (inode " +
                std::to_string(r.ino) + ")");
        if (r.kind == CKPT_FILE_REGULAR && ::lseek(fd, off_t(r.pos), SEEK_SET) < 0)
            die("descriptor " + std::to_string(r.fd) + ": seek: " + std::strerror(errno));
        const bool cloexec = r.fd_flags & CKPT_FILE_CLOEXEC;
        if (fd == int(r.fd)) {
            if (::fcntl(fd, F_SETFD, cloexec ? FD_CLOEXEC : 0) != 0) die(std::string("fcntl: ") + std::strerror(errno));
            continue;
        }
        if (::dup3(fd, int(r.fd), cloexec ? O_CLOEXEC : 0) < 0)
            die("dup3 " + std::to_string(r.fd) + ": " + std::strerror(errno));
        ::close(fd);
    }
}

// Closes every descriptor but 0, 1, 2 and `keep`: what the caller of ckpt
// restore left open (a shell's redirections) is not the process's.
void close_others(std::initializer_list<int> keep) {
    std::vector<int> open_fds;
    DIR* dir = ::opendir("/proc/self/fd");
    if (!dir) die(std::string("/proc/self/fd: ") + std::strerror(errno));
    while (const dirent* e = ::readdir(dir)) {
        if (e->d_name[0] == '.') continue;
        const int fd = std::atoi(e->d_name);
        if (fd > 2 && fd != ::dirfd(dir) && std::find(keep.begin(), keep.end(), fd) == keep.end())
            open_fds.push_back(fd);
    }
    ::closedir(dir);
    for (int fd : open_fds) ::close(fd);
}

// Moves fd above every descriptor of the image; 0, 1 and 2 stay open too
// (an image read from stdin: the process's stdin is the rest of it).
int move_high(int fd, int above) {
    const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, above + 1);
    if (moved < 0) die(std::string("fcntl: ") + std::strerror(errno));
    if (fd > 2) ::close(fd);
    return moved;
}

struct Mapping {
    uint64_t start, end;
    std::string name;
};

std::vector<Mapping> own_mappings() {
    std::vector<Mapping> out;
    FILE* f = std::fopen("/proc/self/maps", "re");
    if (!f) die(std::string("/proc/self/maps: ") + std::strerror(errno));
    char line[4096];
    while (std::fgets(line, sizeof line, f)) {
        unsigned long long s = 0, e = 0;
        int name_at = 0;
        if (std::sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &s, &e, &name_at) < 2) continue;
        std::string name = name_at ? std::string(line + name_at) : "";
        while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
        out.push_back({s, e, name});
    }
    std::fclose(f);
    return out;
}

// /proc/PID/exe names the image's executable, not ckpt: while this
// process is still single-threaded and privileged (before the image's
// credentials).  An image that recorded no path keeps ckpt's
// (restore_warnings() says so), as does a restore without
// CAP_SYS_RESOURCE, with a warning; an executable that cannot be opened
// is refused, as the image's mappings of that file would be.
void restore_executable(const ProcessRecord& process) {
    if (process.exe.empty()) return;
    if (!may_set_own_executable()) {
        print_error("warning: without CAP_SYS_RESOURCE /proc/PID/exe names ckpt, not " + process.exe);
        return;
    }
    Status done = detach_own_executable();
    if (done) done = set_own_executable(process.exe);
    if (!done) die(done.error().message);
}

uint64_t xcr0() {
    uint32_t lo, hi;
    asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return uint64_t(hi) << 32 | lo;
}

// glibc's own rseq registration of this thread, which must go before the
// image's can be registered.
void unregister_own_rseq() {
    if (__rseq_size == 0) return;  // glibc did not register
    void* area = static_cast<char*>(__builtin_thread_pointer()) + __rseq_offset;
    for (uint32_t len : {32u, uint32_t(__rseq_size)})
        if (::syscall(SYS_rseq, area, len, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) == 0) return;
    die(std::string("cannot unregister the restorer's rseq area: ") + std::strerror(errno));
}

// The last steps, from the moment the thread pointer is the image's: no C
// code may run (it could touch thread-local storage or the FPU).
[[noreturn]] __attribute__((noinline)) void jump(uint64_t fs_base, const void* xsave, int dev, void* finish) {
    register uint64_t r12 asm("r12") = fs_base;
    register uint64_t r13 asm("r13") = reinterpret_cast<uint64_t>(xsave);
    register uint64_t r14 asm("r14") = uint64_t(dev);
    register uint64_t r15 asm("r15") = reinterpret_cast<uint64_t>(finish);
    asm volatile(
        "mov $158, %%eax\n\t"       // arch_prctl(ARCH_SET_FS, fs_base)
        "mov $0x1002, %%edi\n\t"
        "mov %%r12, %%rsi\n\t"
        "syscall\n\t"
        "test %%rax, %%rax\n\t"
        "jnz 1f\n\t"
        "test %%r13, %%r13\n\t"
        "jz 2f\n\t"
        "mov $-1, %%eax\n\t"        // every feature XCR0 has: the rest start in their init state
        "mov $-1, %%edx\n\t"
        "xrstor64 (%%r13)\n\t"
        "2:\n\t"
        "mov $16, %%eax\n\t"        // ioctl(dev, CKPT_IOC_RESTORE_FINISH, finish)
        "mov %%r14, %%rdi\n\t"
        "mov %[cmd], %%rsi\n\t"
        "mov %%r15, %%rdx\n\t"
        "syscall\n\t"
        "1:\n\t"
        "mov $231, %%eax\n\t"       // exit_group(70): FINISH failed
        "mov $70, %%edi\n\t"
        "syscall\n\t"
        "ud2\n\t"
        :
        : "r"(r12), "r"(r13), "r"(r14), "r"(r15), [cmd] "i"(CKPT_IOC_RESTORE_FINISH)
        : "rax", "rcx", "rdx", "rsi", "rdi", "r11", "memory");
    __builtin_unreachable();
}

// Everything one thread needs for its last steps, prepared before the
// image's memory is in place.
struct ThreadJob {
    const ckpt_thread* record = nullptr;
    ckpt_restore_finish_args finish{};
    uint8_t* xsave = nullptr;  // 64-byte aligned, or nullptr (no XSAVE area)
    std::vector<uint8_t> xsave_storage;
    std::vector<uint8_t> stack;  // the restorer's stack for this thread
    int dev = -1;
    clone_args clone{};
    pid_t tid = 0;
    WaitTimeout timeout;  // for a restarted wait, written once memory is in place
    const CredsPlan* creds = nullptr;
    user_desc tls[CKPT_THREAD_NR_TLS] = {};  // set_thread_area() for each of nr_tls,
    uint32_t nr_tls = 0;
    user_desc* tls_low = nullptr;            // from a copy below 4 GiB (int $0x80)
    const SigQueueRecord* sigqueue = nullptr;  // its queued signals, or none
};

// Threads whose credentials are the image's: the main thread sets the
// process's dumpable flag once they all are (each change resets it).
uint32_t g_creds_done;

// The image's XSAVE area as xrstor takes it: only the features this CPU
// has, standard (not compacted) form, reserved header bytes zero.
void prepare_xsave(const ThreadRecord& thread, ThreadJob& job) {
    if (thread.xstate.size() < 576) return;  // FXSAVE only: not restored
    job.xsave_storage.assign(thread.xstate.size() + 64, 0);
    uint8_t* area = job.xsave_storage.data();
    area += (64 - reinterpret_cast<uintptr_t>(area) % 64) % 64;
    std::memcpy(area, thread.xstate.data(), thread.xstate.size());
    uint64_t bv;
    std::memcpy(&bv, area + 512, 8);
    bv &= xcr0();
    std::memcpy(area + 512, &bv, 8);
    std::memset(area + 520, 0, 56);
    job.xsave = area;
}

ThreadJob prepare_thread(const ThreadRecord& thread, const ckpt_restart* restart, int dev) {
    ThreadJob job;
    job.record = &thread.thread;
    job.dev = dev;
    job.tid = thread.thread.tid;
    job.finish.size = sizeof job.finish;
    job.finish.blocked = thread.thread.sig_blocked;
    restart_registers(thread.thread, restart, job.finish.regs, &job.timeout);
    prepare_xsave(thread, job);
    for (uint32_t i = 0; i < CKPT_THREAD_NR_TLS; i++) {
        if (!thread.thread.tls[i]) continue;  // as a new thread has it
        const std::optional<user_desc> desc = user_desc_of(thread.thread.tls[i], kFirstTlsEntry + i);
        if (!desc) die("thread " + std::to_string(job.tid) + ": a TLS descriptor that cannot be set");
        job.tls[job.nr_tls++] = *desc;
    }
    return job;
}

// The main thread of an image whose main thread had exited: it returns
// from CKPT_IOC_RESTORE_FINISH to a syscall instruction with exit(0) in
// its registers (the address is set once the vDSO is in place), and so
// exits as the original did, the others running on.
ThreadJob exit_job(const ThreadRecord& none, int dev) {
    ThreadJob job = prepare_thread(none, nullptr, dev);
    std::memset(job.finish.regs, 0, sizeof job.finish.regs);
    job.finish.regs[kRax] = SYS_exit;
    job.finish.blocked = ~uint64_t(0);
    return job;
}

// Offset of a syscall instruction (0f 05) in a mapping of the restorer's.
std::optional<uint64_t> syscall_instruction(const Mapping& m) {
    const auto* p = reinterpret_cast<const uint8_t*>(m.start);
    for (uint64_t i = 0; i + 1 < m.end - m.start; i++)
        if (p[i] == 0x0f && p[i + 1] == 0x05) return i;
    return std::nullopt;
}

// What becomes of the image's vDSO, decided before its memory is in place.
struct VdsoPlan {
    bool proxy = false;              // another kernel's: a patched copy
    std::vector<VdsoPatch> patches;  // for the copy
};

// The image's vDSO is this kernel's if its bytes are ours (or, in an image
// without a VDSO record, if `ckpt restore` found the same kernel release):
// ours is moved to its address.  Else a proxy (vdso_proxy.h).
VdsoPlan plan_vdso(const RestorePlan& plan, const Mapping* mine) {
    VdsoPlan out;
    if (!plan.vdso || !mine) return out;
    const std::vector<uint8_t>& theirs = plan.vdso->bytes;
    const auto* ours = reinterpret_cast<const uint8_t*>(mine->start);
    const size_t our_size = mine->end - mine->start;
    if (theirs.size() == our_size && std::memcmp(theirs.data(), ours, our_size) == 0) return out;
    auto patches = plan_vdso_redirect(theirs.data(), theirs.size(), plan.vdso->vdso.start, ours, our_size, mine->start);
    if (!patches) die("the image comes from another kernel and " + patches.error().message);
    out.proxy = true;
    out.patches = std::move(*patches);
    return out;
}

// The proxy where the image's vDSO was, and zeros where its [vvar] was: a
// thread stopped inside the old vDSO's code finds no clock there and takes
// the system call instead.  No allocation (the heap is the image's).
void map_vdso_proxy(const VdsoRecord& rec, const VdsoPlan& vdso, const __u64 image_vdso[2],
                    const __u64 image_vvar[2]) {
    if (image_vdso[0] != rec.vdso.start || image_vdso[1] != rec.vdso.start + rec.vdso.size)
        die_raw("the image's [vdso] mapping is not where its VDSO record says");
    void* at = reinterpret_cast<void*>(rec.vdso.start);
    void* p = ::mmap(at, rec.vdso.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != at) die_raw("cannot map the vDSO proxy at the image's vDSO address", kOverlap);
    std::memcpy(p, rec.bytes.data(), rec.bytes.size());
    apply_vdso_patches(static_cast<uint8_t*>(p), vdso.patches.data(), vdso.patches.size());
    if (::mprotect(p, rec.vdso.size, PROT_READ | PROT_EXEC) != 0) die_raw("cannot protect the vDSO proxy");
    if (image_vvar[1]) {
        void* v = reinterpret_cast<void*>(image_vvar[0]);
        if (::mmap(v, image_vvar[1] - image_vvar[0], PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
                   0) != v)
            die_raw("cannot map zeros at the image's [vvar] address", kOverlap);
    }
}

// Signals pending at the dump, queued again while every signal is
// blocked, to the process (tid 0, by the main thread) or to the calling
// thread itself: each siginfo of the image's queue as it was, in order
// (the kernel lets a process queue any siginfo to itself), then each
// pending signal the queue has no siginfo for (an image before 1.4, or a
// signal whose siginfo the kernel could not allocate) as the process's
// own kill.  SIGKILL and SIGSTOP cannot wait blocked: restore_warnings()
// names them.
void queue_signals(uint64_t mask, long tid, const SigQueueRecord* queue) {
    const long tgid = raw_syscall(SYS_getpid);
    uint64_t sent = 0;
    for (size_t i = 0; queue && i < queue->infos.size(); i++) {
        const uint8_t* info = queue->infos[i].data();
        int32_t sig;
        std::memcpy(&sig, info, 4);
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        const long ret = tid ? raw_syscall(SYS_rt_tgsigqueueinfo, tgid, tid, sig, long(info))
                             : raw_syscall(SYS_rt_sigqueueinfo, tgid, sig, long(info));
        if (ret == 0) sent |= uint64_t(1) << (sig - 1);
    }
    for (int sig = 1; sig <= CKPT_NR_SIGNALS; sig++) {
        const uint64_t bit = uint64_t(1) << (sig - 1);
        if (!(mask & bit) || (sent & bit) || sig == SIGKILL || sig == SIGSTOP) continue;
        if (tid)
            raw_syscall(SYS_tgkill, tgid, tid, sig);
        else
            raw_syscall(SYS_kill, tgid, sig);
    }
}

// The timespec a restarted wait's registers point at, into the image's
// memory (no allocation).  Where that cannot be written (the stack ends
// there), the wait returns -EINTR instead.
void write_wait_timeout(ThreadJob& job) {
    if (!job.timeout.addr) return;
    const struct {
        int64_t tv_sec, tv_nsec;
    } ts = {job.timeout.tv_sec, job.timeout.tv_nsec};
    iovec local{const_cast<void*>(static_cast<const void*>(&ts)), sizeof ts};
    iovec remote{reinterpret_cast<void*>(job.timeout.addr), sizeof ts};
    if (::process_vm_writev(::getpid(), &local, 1, &remote, 1, 0) != ssize_t(sizeof ts))
        interrupted_registers(*job.record, job.finish.regs);
}

// The image's LDT, as modify_ldt(2) writes it: its non-empty entries and
// its last (the table's size), then read back whole and compared.  No
// allocation: `check` has room for every entry.
void install_ldt(const uint64_t* ldt, uint32_t nr, uint64_t* check) {
    if (!nr) return;
    for (uint32_t i = 0; i < nr; i++) {
        if (!ldt[i] && i != nr - 1) continue;
        std::optional<user_desc> desc = user_desc_of(ldt[i], i);
        if (!desc || raw_syscall(SYS_modify_ldt, 0x11, long(&*desc), sizeof *desc) != 0)
            die_raw("cannot install the image's LDT");
    }
    const long got = raw_syscall(SYS_modify_ldt, 0, long(check), long(nr) * 8);
    if (got != long(nr) * 8 || std::memcmp(check, ldt, size_t(nr) * 8) != 0)
        die_raw("the LDT installed is not the image's");
}

// The threads' TLS descriptors where the 32-bit set_thread_area() can
// read them: a mapping below 4 GiB, of the restorer's own (unmapped at
// the end), made only when some thread has TLS entries.
void place_tls_low(std::vector<ThreadJob>& jobs) {
    size_t n = 0;
    for (const ThreadJob& job : jobs) n += job.nr_tls;
    if (!n) return;
    if (!ia32_syscalls_available())
        die("the image has GDT TLS entries (set_thread_area), and this kernel has no 32-bit system calls to set them");
    const size_t len = (n * sizeof(user_desc) + 4095) & ~size_t(4095);
    void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (p == MAP_FAILED) die(std::string("no memory below 4 GiB for the TLS descriptors: ") + std::strerror(errno));
    auto* low = static_cast<user_desc*>(p);
    for (ThreadJob& job : jobs) {
        job.tls_low = low;
        for (uint32_t i = 0; i < job.nr_tls; i++) *low++ = job.tls[i];
    }
}

// A thread's TLS entries, then its ds and es (checked loadable once the
// LDT was in place): the last steps before jump().  Raw system calls only.
void restore_segments(const ThreadJob& job) {
    for (uint32_t i = 0; i < job.nr_tls; i++)
        if (set_thread_area_ia32(&job.tls_low[i]) != 0) raw_syscall(SYS_exit_group, kFailed);
    const uint16_t ds = uint16_t(job.record->regs[kDs]), es = uint16_t(job.record->regs[kEs]);
    if (ds) asm volatile("mov %0, %%ds" : : "r"(ds));
    if (es) asm volatile("mov %0, %%es" : : "r"(es));
}

// A thread's own state, then its last steps: in the thread itself, with
// raw system calls only (it runs on the restorer's thread pointer).
[[noreturn]] void finish_thread(ThreadJob* job) {
    const ckpt_thread& t = *job->record;
    stack_t ss{};
    ss.ss_sp = reinterpret_cast<void*>(t.sas_ss_sp);
    ss.ss_size = t.sas_ss_size;
    ss.ss_flags = int(t.sas_ss_flags);
    if (ss.ss_flags & SS_DISABLE) ss = stack_t{nullptr, SS_DISABLE, 0};
    if (raw_syscall(SYS_sigaltstack, long(&ss), 0) != 0) raw_syscall(SYS_exit_group, kFailed);
    if (t.robust_list && raw_syscall(SYS_set_robust_list, long(t.robust_list), 24) != 0)
        raw_syscall(SYS_exit_group, kFailed);
    if (t.clear_child_tid) raw_syscall(SYS_set_tid_address, long(t.clear_child_tid));
    if (t.rseq && raw_syscall(SYS_rseq, long(t.rseq), long(t.rseq_len), 0, long(t.rseq_sig)) != 0)
        raw_syscall(SYS_exit_group, kFailed);
    if (t.regs[kGsBase] && raw_syscall(SYS_arch_prctl, ARCH_SET_GS, long(t.regs[kGsBase])) != 0)
        raw_syscall(SYS_exit_group, kFailed);
    queue_signals(t.sig_pending, raw_syscall(SYS_gettid), job->sigqueue);
    const char* step = nullptr;
    if (apply_credentials(*job->creds, &step) < 0) raw_syscall(SYS_exit_group, kFailed);
    __atomic_add_fetch(&g_creds_done, 1, __ATOMIC_RELEASE);
    raw_syscall(SYS_futex, long(&g_creds_done), FUTEX_WAKE_PRIVATE, 1);
    restore_segments(*job);
    jump(t.regs[kFsBase], job->xsave, job->dev, &job->finish);
}

// clone3() for a thread of this process with `job`'s tid, which runs
// finish_thread(job) on job->stack.
long start_thread(ThreadJob* job) {
    job->clone = clone_args{};
    job->clone.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
    job->clone.stack = reinterpret_cast<uint64_t>(job->stack.data());
    job->clone.stack_size = job->stack.size();
    if (job->tid) {  // 0: any free tid (--any-pid)
        job->clone.set_tid = reinterpret_cast<uint64_t>(&job->tid);
        job->clone.set_tid_size = 1;
    }
    long ret;
    register void (*fn)(ThreadJob*) asm("r12") = [](ThreadJob* j) { finish_thread(j); };
    register ThreadJob* arg asm("r13") = job;
    asm volatile(
        "syscall\n\t"
        "test %%rax, %%rax\n\t"
        "jnz 1f\n\t"
        "xor %%ebp, %%ebp\n\t"   // the new thread: no caller frame
        "mov %%r13, %%rdi\n\t"
        "call *%%r12\n\t"
        "ud2\n\t"
        "1:\n\t"
        : "=a"(ret)
        : "a"(long(SYS_clone3)), "D"(&job->clone), "S"(sizeof job->clone), "r"(fn), "r"(arg)
        : "rcx", "r11", "memory");
    return ret;
}

}  // namespace

int run_restorer(const RestoreOptions& options) {
    // Nothing may interrupt a half-built process: the image's mask is set
    // by the last step.
    sigset_t all;
    sigfillset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);

    int image_fd = options.restorer_fds[0], prelude_fd = options.restorer_fds[1], status_fd = options.restorer_fds[2];
    FdSource prelude_source(prelude_fd, "prelude");
    if (::lseek(prelude_fd, 0, SEEK_SET) != 0) die("prelude: seek failed");
    auto plan = read_restore_plan(prelude_source);
    if (!plan) die("prelude: " + plan.error().message);
    if (!plan->process || plan->threads.empty()) die("the plan has no process or no thread");
    const ckpt_process& proc = plan->process->process;
    // This thread becomes the main thread; one that had exited
    // (pthread_exit) has no record: it exits again once the others run.
    const bool leaderless = !(plan->threads[0].thread.flags & CKPT_THREAD_LEADER);
    static ThreadRecord exited_leader;
    exited_leader.thread.sas_ss_flags = SS_DISABLE;
    const ckpt_thread& t = leaderless ? exited_leader.thread : plan->threads[0].thread;

    int highest = 2;
    for (const FileRecord& f : plan->files) highest = std::max(highest, int(f.file.fd));
    image_fd = move_high(image_fd, highest);
    prelude_fd = move_high(prelude_fd, highest);
    status_fd = move_high(status_fd, highest);
    int dev = ::open("/dev/ckpt", O_RDWR | O_CLOEXEC);
    if (dev < 0)
        die(std::string("/dev/ckpt: ") + std::strerror(errno) +
            (errno == ENOENT || errno == ENODEV || errno == ENXIO ? " (is the module loaded?)" : ""));
    dev = move_high(dev, highest);
    close_others({image_fd, prelude_fd, status_fd, dev});
    restore_executable(*plan->process);

    // What belongs to the process and the leader and needs no memory.
    restore_signal_actions(proc);
    restore_limits(proc);
    ::umask(proc.umask);
    if (!plan->process->cwd.empty() && ::chdir(plan->process->cwd.c_str()) != 0)
        die("cwd " + plan->process->cwd + ": " + std::strerror(errno));
    if (::personality(proc.personality) < 0) die(std::string("personality: ") + std::strerror(errno));
    char comm[16] = {};
    std::memcpy(comm, plan->task.comm, sizeof comm - 1);
    ::prctl(PR_SET_NAME, comm);
    reopen_files(*plan, options.skip_fds);
    stack_t ss{};
    ss.ss_sp = reinterpret_cast<void*>(t.sas_ss_sp);
    ss.ss_size = t.sas_ss_size;
    ss.ss_flags = int(t.sas_ss_flags);
    if (ss.ss_flags & SS_DISABLE) ss = stack_t{nullptr, SS_DISABLE, 0};
    if (::sigaltstack(&ss, nullptr) != 0) die(std::string("sigaltstack: ") + std::strerror(errno));
    if (t.robust_list && ::syscall(SYS_set_robust_list, t.robust_list, 24) != 0)
        die(std::string("set_robust_list: ") + std::strerror(errno));

    // Everything the steps after CKPT_IOC_RESTORE need, allocated now.
    std::vector<ThreadJob> jobs;
    jobs.reserve(plan->threads.size() + 1);
    if (leaderless) jobs.push_back(exit_job(exited_leader, dev));
    for (const ThreadRecord& thread : plan->threads) {
        jobs.push_back(prepare_thread(thread, plan->restart_of(thread.thread.tid), dev));
        jobs.back().sigqueue = plan->sigqueue_of(thread.thread.tid);
        if (options.any_pid) jobs.back().tid = 0;
    }
    for (size_t i = 1; i < jobs.size(); i++) {
        jobs[i].finish.flags = CKPT_RESTORE_FINISH_THREAD | (leaderless ? CKPT_RESTORE_FINISH_AFTER_LEADER : 0);
        jobs[i].stack.assign(64 * 1024, 0);
    }
    ThreadJob& leader = jobs[0];
    leader.finish.wait_threads = uint32_t(jobs.size() - 1);
    // Allocated before the restorer lists its own mappings, which it unmaps
    // at the end: 1.5 MiB, an mmap of its own, that the process must not keep.
    std::vector<ckpt_restore_advice> advice = advice_room();
    std::vector<uint64_t> ldt(kLdtEntries), ldt_check(kLdtEntries);
    place_tls_low(jobs);
    const std::vector<Mapping> mine = own_mappings();
    std::vector<ckpt_range> unmap;
    const Mapping* my_vdso = nullptr;
    const Mapping* my_vvar = nullptr;
    for (const Mapping& m : mine) {
        if (m.name == "[vdso]") my_vdso = &m;
        else if (m.name == "[vvar]") my_vvar = &m;
        else if (m.name != "[vsyscall]") unmap.push_back({m.start, m.end});
    }
    if (unmap.size() + 2 > CKPT_RESTORE_MAX_UNMAP) die("the restorer has too many mappings");
    const VdsoPlan vdso = plan_vdso(*plan, my_vdso);
    std::optional<uint64_t> exit_offset;
    if (leaderless && (!my_vdso || !(exit_offset = syscall_instruction(*my_vdso))))
        die("the main thread had exited, and the restorer has no vDSO for it to exit from");
    const CredsPlan creds = plan_credentials(proc, plan->process->groups);
    for (ThreadJob& job : jobs) job.creds = &creds;
    std::vector<ckpt_range> unmap_list(CKPT_RESTORE_MAX_UNMAP);
    leader.finish.close_fds[leader.finish.nr_close++] = dev;
    leader.finish.close_fds[leader.finish.nr_close++] = status_fd;
    unregister_own_rseq();

    ckpt_restore_args args{};
    args.size = sizeof args;
    args.fd = image_fd;
    args.nr_records = plan->prelude.summary.records;
    args.bytes = plan->prelude.mm_offset;
    args.chain_crc = plan->prelude.chain_state;
    // The algorithm of the records the module reads (TAIL's chain is CRC-32C).
    args.checksum = image_checksum(plan->prelude.summary.head);
    args.mm_hdr = plan->prelude.mm_hdr;
    args.advice = reinterpret_cast<uintptr_t>(advice.data());
    args.max_advice = uint32_t(advice.size());
    args.ldt = reinterpret_cast<uintptr_t>(ldt.data());
    args.max_ldt = kLdtEntries;
    if (::ioctl(dev, CKPT_IOC_RESTORE, &args) != 0) {
        const int err = errno;
        if (err == EEXIST) die_raw("the image overlaps the restorer's memory", kOverlap);
        char msg[256];
        std::snprintf(msg, sizeof msg, "the module could not restore the memory: %s (at %#llx, after %llu VMAs, %llu pages)",
                      std::strerror(err), static_cast<unsigned long long>(args.err_addr),
                      static_cast<unsigned long long>(args.nr_vmas), static_cast<unsigned long long>(args.nr_pages));
        die_raw(msg);
    }
    // From here on: no allocation (brk is the image's now).
    ::close(image_fd);
    ::close(prelude_fd);
    for (uint32_t i = 0; i < args.nr_advice && i < advice.size(); i++) apply_advice(advice[i]);
    for (ThreadJob& job : jobs) write_wait_timeout(job);
    install_ldt(ldt.data(), args.nr_ldt, ldt_check.data());
    for (const ThreadJob& job : jobs)
        for (int reg : {kDs, kEs})
            if (!data_selector_loadable(job.record->regs[reg], ldt.data(), args.nr_ldt, job.record->tls))
                die_raw("a thread's ds or es selects no segment it can load");
    size_t nr_unmap = 0;
    for (const ckpt_range& r : unmap) unmap_list[nr_unmap++] = r;
    if (leaderless) {
        // Ours stays where it is beside a proxy, else it moves to the image's [vdso].
        if (!vdso.proxy && !args.vdso[1]) die_raw("the main thread had exited, and the image has no vDSO for it to exit from");
        leader.finish.regs[kRip] = (vdso.proxy ? my_vdso->start : args.vdso[0]) + *exit_offset;
    }
    if (vdso.proxy) {
        // Another kernel's vDSO: the proxy at its address, and ours stays.
        map_vdso_proxy(*plan->vdso, vdso, args.vdso, args.vvar);
        my_vdso = my_vvar = nullptr;
        args.vdso[1] = args.vvar[1] = 0;
    }
    const struct {
        const Mapping* mine;
        const __u64* image;
    } specials[] = {{my_vdso, args.vdso}, {my_vvar, args.vvar}};
    for (const auto& sp : specials) {
        if (!sp.mine) {
            if (sp.image[1]) die_raw("the image has a vDSO mapping this kernel does not give");
            continue;
        }
        if (!sp.image[1]) {
            unmap_list[nr_unmap++] = {sp.mine->start, sp.mine->end};
            continue;
        }
        if (sp.image[1] - sp.image[0] != sp.mine->end - sp.mine->start)
            die_raw("the image's vDSO differs from this kernel's: restore on the kernel it was dumped on");
        if (sp.image[0] != sp.mine->start &&
            ::syscall(SYS_mremap, sp.mine->start, sp.mine->end - sp.mine->start, sp.mine->end - sp.mine->start,
                      MREMAP_MAYMOVE | MREMAP_FIXED, sp.image[0]) == -1)
            die_raw("cannot move the vDSO to the image's address");
    }
    leader.finish.unmap = reinterpret_cast<uint64_t>(unmap_list.data());
    leader.finish.nr_unmap = uint32_t(nr_unmap);
    if (t.rseq && ::syscall(SYS_rseq, t.rseq, t.rseq_len, 0, t.rseq_sig) != 0) die_raw("cannot register the rseq area");
    if (t.clear_child_tid) ::syscall(SYS_set_tid_address, t.clear_child_tid);
    // The C library's thread pointer is fs; gs is the program's own.
    if (t.regs[kGsBase] && ::syscall(SYS_arch_prctl, ARCH_SET_GS, t.regs[kGsBase]) != 0)
        die_raw("cannot set the gs base");
    if (plan->process->auxv.size() &&
        ::prctl(PR_SET_MM, PR_SET_MM_AUXV, plan->process->auxv.data(), plan->process->auxv.size() * 8, 0) != 0)
        die_raw("cannot set the saved auxiliary vector");
    // Pending for the process before the other threads exist, so that no
    // thread already in the image's code takes one early.
    queue_signals(proc.sig_pending, 0, plan->sigqueue_of(0));
    // The other threads, each with its tid; each finishes on its own, and
    // this one, last, waits for them in CKPT_IOC_RESTORE_FINISH.
    for (size_t i = 1; i < jobs.size(); i++) {
        const long ret = start_thread(&jobs[i]);
        if (ret < 0) die_raw(ret == -EEXIST ? "a thread's tid is taken" : "cannot start a thread (clone3)");
    }
    restore_segments(leader);  // after the others copied the restorer's
    queue_signals(t.sig_pending, raw_syscall(SYS_gettid), leader.sigqueue);
    const char* step = nullptr;
    if (const long err = apply_credentials(creds, &step); err < 0) {
        char msg[128];
        std::snprintf(msg, sizeof msg, "cannot take the image's credentials: %s: %s", step, std::strerror(int(-err)));
        die_raw(msg);
    }
    for (uint32_t done; (done = __atomic_load_n(&g_creds_done, __ATOMIC_ACQUIRE)) < jobs.size() - 1;)
        raw_syscall(SYS_futex, long(&g_creds_done), FUTEX_WAIT_PRIVATE, done);
    if (proc.dumpable <= 1 && ::prctl(PR_SET_DUMPABLE, proc.dumpable) != 0) die_raw("cannot set the dumpable flag");
    const char ok = 1;
    if (::write(status_fd, &ok, 1) != 1) die_raw("the parent is gone");
    jump(t.regs[kFsBase], leader.xsave, dev, &leader.finish);
}

}  // namespace ckpt
