// A process with one of every kind of memory ckpt cares about, used as a
// live target by the tests.  Prints "ready ANON SUM rseq SIZE MAIN THREAD"
// when set up (SIZE is glibc's __rseq_size, MAIN and THREAD where each
// thread's rseq area is, 0 without rseq), then sleeps in pause() in every
// thread; on SIGUSR1 changes one byte of its anon region and prints
// "mutated".
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <string>
#include <thread>

namespace {

volatile sig_atomic_t g_mutate = 0;

void on_usr1(int) { g_mutate = 1; }

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

}  // namespace

int main() {
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
    std::thread([&thread_rseq] {
        thread_rseq.set_value(rseq_area());
        for (;;) pause();
    }).detach();

    signal(SIGUSR1, on_usr1);
    unlink(path);
    std::printf("ready %p %u rseq %u %#llx %#llx\n", static_cast<void*>(anon), sum, __rseq_size, rseq_area(),
                thread_rseq_area.get());
    std::fflush(stdout);
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
