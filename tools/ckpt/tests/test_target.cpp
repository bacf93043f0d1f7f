// A process with one of every kind of memory ckpt cares about, used as a
// live target by the tests.  Prints "ready ANON SUM rseq SIZE MAIN THREAD"
// when set up (SIZE is glibc's __rseq_size, MAIN and THREAD where each
// thread's rseq area is, 0 without rseq), then sleeps in pause() in every
// thread; on SIGUSR1 changes one byte of its anon region and prints
// "mutated"; on SIGUSR2 prints "usr2" from the handler itself, in whichever
// thread takes it.
//
// One option changes its shape:
//   --exit-main   the main thread leaves with pthread_exit() after "ready":
//                 a zombie leader, the second thread runs on
//   --io-uring    also has an io_uring SQPOLL thread (an io worker, which
//                 cannot be traced) if the kernel allows it
//   --vfork       the second thread then calls vfork(), and the child
//                 sleeps: that thread waits in state D, where no ptrace-stop
//                 can reach it
//   --spawn N     a third thread waits for SIGUSR1, then starts N more
//                 threads, one after the other, each sleeping in pause(),
//                 and prints "spawned" (SIGUSR1 mutates nothing then)
//
// And two modes are no target at all, but another tracer, for tests of what
// ckpt does then:
//   --trace PID          seizes every thread of PID, prints "tracing",
//                        sleeps
//   --trace-thread TID   the same for thread TID alone
#include <fcntl.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <dirent.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace {

volatile sig_atomic_t g_mutate = 0;

void on_usr1(int) { g_mutate = 1; }

void on_usr2(int) {
    static const char kLine[] = "usr2\n";
    (void)!write(STDOUT_FILENO, kLine, sizeof kLine - 1);
}

void* map_anon(size_t len, int flags) {
    void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        std::perror("mmap");
        std::exit(1);
    }
    return p;
}

// The calling thread's rseq area as glibc registered it, or 0.
unsigned long long rseq_area() {
    if (__rseq_size == 0) return 0;
    return reinterpret_cast<uintptr_t>(static_cast<char*>(__builtin_thread_pointer()) + __rseq_offset);
}

int trace(pid_t pid, bool every_thread) {
    std::vector<pid_t> tids{pid};
    if (every_thread) {
        tids.clear();
        const std::string dir = "/proc/" + std::to_string(pid) + "/task";
        DIR* d = opendir(dir.c_str());
        if (!d) return 1;
        while (dirent* e = readdir(d))
            if (e->d_name[0] != '.') tids.push_back(pid_t(std::atoi(e->d_name)));
        closedir(d);
    }
    for (pid_t tid : tids)
        if (ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) {
            std::perror("PTRACE_SEIZE");
            return 1;
        }
    std::printf("tracing\n");
    std::fflush(stdout);
    for (;;) pause();
}

// An io_uring whose submission queue a kernel thread polls: that thread is
// an io worker (PF_IO_WORKER) of this process.  The fd is left open.
void start_sqpoll_thread() {
    io_uring_params params{};
    params.flags = IORING_SETUP_SQPOLL;
    params.sq_thread_idle = 1;  // ms of polling before it sleeps
    if (syscall(__NR_io_uring_setup, 4, &params) < 0) std::perror("io_uring_setup");
}

}  // namespace

int main(int argc, char** argv) {
    // What the test runner left open (ctest's output, which tests running
    // beside this one write) would change between a dump and verify --pid.
    ::close_range(3, ~0U, 0);
    const std::string option = argc > 1 ? argv[1] : "";
    if (option == "--trace" && argc > 2) return trace(pid_t(std::atoi(argv[2])), true);
    if (option == "--trace-thread" && argc > 2) return trace(pid_t(std::atoi(argv[2])), false);
    const bool exit_main = option == "--exit-main";
    const bool vfork_thread = option == "--vfork";
    const int spawn = option == "--spawn" && argc > 2 ? std::atoi(argv[2]) : 0;
    if (option == "--io-uring") start_sqpoll_thread();
    // With --spawn only the spawner takes SIGUSR1, in sigwait(): blocked
    // before any thread starts, every thread inherits the mask.
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    if (spawn > 0) pthread_sigmask(SIG_BLOCK, &usr1, nullptr);

    const size_t ps = size_t(sysconf(_SC_PAGESIZE));

    // Private anonymous memory full of data.
    auto* anon = static_cast<uint8_t*>(map_anon(64 * ps, MAP_PRIVATE));
    for (size_t i = 0; i < 64 * ps; i++) anon[i] = uint8_t(i * 7 + i / ps);

    // Pages only read (the shared zero page) and one written with zeros.
    auto* zero = static_cast<volatile uint8_t*>(map_anon(16 * ps, MAP_PRIVATE));
    unsigned sum = 0;
    for (size_t i = 0; i < 16; i++) sum += zero[i * ps];
    zero[5 * ps] = 1;
    zero[5 * ps] = 0;

    // Private file mapping: clean page-cache pages plus one COW copy.
    char path[] = "/tmp/ckpt-test-target-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 1;
    for (size_t i = 0; i < 8; i++) {
        std::string page(ps, char('a' + i));
        if (write(fd, page.data(), ps) != ssize_t(ps)) return 1;
    }
    auto* file = static_cast<volatile uint8_t*>(mmap(nullptr, 8 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
    if (file == MAP_FAILED) return 1;
    for (size_t i = 0; i < 8; i++) sum += file[i * ps];
    file[2 * ps] = 'Z';
    close(fd);

    // Shared anonymous memory, partly touched.
    auto* shared = static_cast<uint8_t*>(map_anon(4 * ps, MAP_SHARED));
    std::memset(shared, 0x5A, ps);
    std::memset(shared + 2 * ps, 0xA5, ps);

    // A large reservation that is never touched.
    map_anon(1024 * ps, MAP_PRIVATE);

    // A second thread, so that stopping has to wait for all of them.
    std::promise<unsigned long long> thread_rseq;
    std::future<unsigned long long> thread_rseq_area = thread_rseq.get_future();
    std::promise<void> vforking;
    std::thread([&thread_rseq, &vforking, vfork_thread] {
        thread_rseq.set_value(rseq_area());
        if (vfork_thread) {
            vforking.set_value();
            if (vfork() == 0) {
                // Shares the parent's memory: only system calls here.
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                for (;;) pause();
            }
        }
        for (;;) pause();
    }).detach();
    if (vfork_thread) vforking.get_future().wait();
    if (spawn > 0) {
        std::thread([spawn, usr1] {
            int sig = 0;
            sigwait(&usr1, &sig);
            for (int i = 0; i < spawn; i++)
                std::thread([] {
                    for (;;) pause();
                }).detach();
            std::printf("spawned\n");
            std::fflush(stdout);
            for (;;) pause();
        }).detach();
    }

    signal(SIGUSR1, on_usr1);
    signal(SIGUSR2, on_usr2);
    unlink(path);
    std::printf("ready %p %u rseq %u %#llx %#llx\n", static_cast<void*>(anon), sum, __rseq_size, rseq_area(),
                thread_rseq_area.get());
    std::fflush(stdout);
    if (exit_main) pthread_exit(nullptr);
    for (;;) {
        pause();
        if (g_mutate) {
            g_mutate = 0;
            anon[ps + 17] ^= 0xFF;
            std::printf("mutated\n");
            std::fflush(stdout);
        }
    }
}
