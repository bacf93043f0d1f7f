// `ckpt restore`'s reading of the records before MM: never a byte past MM's
// header (the rest is the module's), and what it refuses to restore.
#include "restore_plan.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>

#include <algorithm>
#include <cstring>

#include "crc32c.h"
#include "image_builder.h"

namespace ckpt {
namespace {

using test::ImageWriter;

// Hands out at most `chunk` bytes per read and counts what it gave.
class CountingSource final : public ByteSource {
public:
    CountingSource(const std::vector<uint8_t>& bytes, size_t chunk) : bytes_(bytes), chunk_(chunk) {}
    Expected<size_t> read_some(void* buf, size_t len) override {
        const size_t n = std::min({len, chunk_, bytes_.size() - pos_});
        std::memcpy(buf, bytes_.data() + pos_, n);
        pos_ += n;
        return n;
    }
    size_t given() const { return pos_; }

private:
    const std::vector<uint8_t>& bytes_;
    size_t chunk_;
    size_t pos_ = 0;
};

struct Built {
    std::vector<uint8_t> bytes;
    uint64_t mm_offset = 0;
    uint32_t chain_state = 0;  // over the records before MM
    uint64_t records = 0;
};

// HEAD TASK PROCESS THREAD(s) FILE(s) MM VMA PAGES TAIL, as the module writes.
Built build(uint32_t threads, const std::vector<std::pair<ckpt_file, std::string>>& files, uint32_t head_flags = 0) {
    ImageWriter w;
    ckpt_head head = ImageWriter::default_head();
    head.flags = head_flags;
    w.head(head);
    ckpt_task task{};
    task.pid = 4242;
    task.tid = 4242;
    task.nr_threads = threads;
    task.state = CKPT_TASK_STOPPED;
    std::strcpy(task.comm, "sample");
    w.task(task);
    for (const auto& [f, path] : files) w.file(f, path);
    Built b;
    b.records = w.nr_records();
    uint32_t chain = kCrc32cInit;
    {
        // The chain: each earlier record's crc field, little-endian.
        const std::vector<uint8_t>& bytes = w.bytes();
        for (uint64_t at = 0; at < bytes.size();) {
            ckpt_rec_hdr hdr;
            std::memcpy(&hdr, bytes.data() + at, sizeof hdr);
            chain = crc32c_update(chain, &hdr.crc, 4);
            at += sizeof hdr + ((hdr.len + 7) & ~uint64_t(7));
        }
    }
    b.chain_state = chain;
    ckpt_mm mm{};
    mm.start_brk = 0x1000000;
    mm.brk = 0x1001000;
    b.mm_offset = w.mm(mm);
    ckpt_vma heap{};
    heap.start = 0x1000000;
    heap.end = 0x1001000;
    heap.vm_flags = CKPT_VMA_F_READ | CKPT_VMA_F_WRITE;
    heap.kind = CKPT_VMA_ANON;
    w.vma(heap, "");
    w.pages({0x1000000}, {test::pattern_page(0x1000000, 4096)});
    w.tail();
    b.bytes = w.bytes();
    return b;
}

ckpt_file regular_file(uint32_t fd) {
    ckpt_file f{};
    f.fd = fd;
    f.kind = CKPT_FILE_REGULAR;
    f.f_flags = 0;
    return f;
}

TEST(RestorePlan, ReadsUpToMmsHeaderAndNotAByteMore) {
    const Built b = build(1, {{regular_file(3), "/etc/hostname"}});
    for (size_t chunk : {size_t(1), size_t(7), size_t(1) << 20}) {
        CountingSource source(b.bytes, chunk);
        auto plan = read_restore_plan(source);
        ASSERT_TRUE(plan) << plan.error().message;
        EXPECT_EQ(source.given(), b.mm_offset + sizeof(ckpt_rec_hdr)) << "chunk " << chunk;
        EXPECT_EQ(plan->prelude.mm_offset, b.mm_offset);
        EXPECT_EQ(plan->prelude.mm_hdr.type, uint32_t(CKPT_REC_MM));
        EXPECT_EQ(plan->prelude.summary.records, b.records);
        EXPECT_EQ(plan->prelude.chain_state, b.chain_state);
        EXPECT_EQ(plan->bytes.size(), b.mm_offset + sizeof(ckpt_rec_hdr));
        EXPECT_TRUE(std::equal(plan->bytes.begin(), plan->bytes.end(), b.bytes.begin()));
        ASSERT_EQ(plan->threads.size(), 1u);
        ASSERT_EQ(plan->files.size(), 1u);
        EXPECT_EQ(plan->files[0].path, "/etc/hostname");
        EXPECT_TRUE(plan->process.has_value());
        EXPECT_TRUE(restore_refusals(*plan, false).empty());
    }
}

TEST(RestorePlan, DamageBeforeMmIsAFormatError) {
    Built b = build(1, {});
    b.bytes[128 + 24 + 4] ^= 1;  // in TASK (HEAD is 24 + 104 bytes)
    CountingSource source(b.bytes, 1 << 20);
    auto plan = read_restore_plan(source);
    ASSERT_FALSE(plan);
    EXPECT_NE(plan.error().message.find("bad crc in TASK record"), std::string::npos) << plan.error().message;
}

TEST(RestorePlan, WhatThisVersionCannotRestoreIsRefusedByName) {
    {
        const Built b = build(3, {});
        CountingSource source(b.bytes, 1 << 20);
        auto plan = read_restore_plan(source);
        ASSERT_TRUE(plan);
        EXPECT_EQ(plan->threads.size(), 3u);
        EXPECT_TRUE(restore_refusals(*plan, false).empty()) << "threads are restored";
    }
    {
        const Built b = build(1, {}, CKPT_IMAGE_LIVE);
        CountingSource source(b.bytes, 1 << 20);
        auto plan = read_restore_plan(source);
        ASSERT_TRUE(plan);
        const auto why = restore_refusals(*plan, false);
        ASSERT_EQ(why.size(), 1u);
        EXPECT_NE(why[0].find("live image"), std::string::npos) << why[0];
    }
    {
        ckpt_file sock = regular_file(4);
        sock.kind = CKPT_FILE_SOCKET;
        ckpt_file tty = regular_file(0);
        tty.kind = CKPT_FILE_CHAR;
        const Built b = build(1, {{tty, "/dev/pts/0"},
                                  {regular_file(3), "/etc/hostname"},
                                  {sock, "socket:[77]"},
                                  {regular_file(5), "/memfd:jit (deleted)"}});
        CountingSource source(b.bytes, 1 << 20);
        auto plan = read_restore_plan(source);
        ASSERT_TRUE(plan);
        const auto why = restore_refusals(*plan, false);
        ASSERT_EQ(why.size(), 2u) << "stdin is ckpt restore's own; the regular file is reopened";
        EXPECT_NE(why[0].find("descriptor 4 (socket socket:[77])"), std::string::npos) << why[0];
        // A memfd's or a deleted file's data is not in the image: no path to reopen.
        EXPECT_NE(why[1].find("descriptor 5 (regular file /memfd:jit (deleted))"), std::string::npos) << why[1];
        EXPECT_TRUE(restore_refusals(*plan, true).empty()) << "--skip-fds";
    }
}

// Pending signals are sent again, but SIGKILL and SIGSTOP cannot wait
// blocked while the process is built: those alone are warned about.
TEST(RestorePlan, OnlyUnqueueablePendingSignalsAreWarnedAbout) {
    RestorePlan plan;
    ProcessRecord p;
    p.process.uid[0] = p.process.uid[1] = ::geteuid();
    p.process.sig_pending = 1u << (SIGHUP - 1);
    p.exe = "/bin/example";
    plan.process = p;
    ThreadRecord t;
    t.thread.tid = 7;
    t.thread.sig_pending = (1u << (SIGUSR2 - 1)) | (uint64_t(1) << (SIGRTMIN + 1 - 1));
    plan.threads.push_back(t);
    EXPECT_TRUE(restore_warnings(plan).empty());
    plan.threads[0].thread.sig_pending |= 1u << (SIGSTOP - 1);
    const auto w = restore_warnings(plan);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_NE(w[0].find("SIGKILL or SIGSTOP pending for thread 7"), std::string::npos) << w[0];

    // A queue longer than the image holds: what is left out is named.
    plan.threads[0].thread.sig_pending &= ~(1u << (SIGSTOP - 1));
    SigQueueRecord q;
    q.queue = {7, 2, 2, 0};
    q.infos.resize(2);
    plan.sigqueues.push_back(q);
    EXPECT_TRUE(restore_warnings(plan).empty());
    plan.sigqueues[0].queue.queued = 9;
    const auto lost = restore_warnings(plan);
    ASSERT_EQ(lost.size(), 1u);
    EXPECT_EQ(lost[0], "7 queued signals of thread 7 past the first 2 are not in the image");
    EXPECT_EQ(plan.sigqueue_of(7), &plan.sigqueues[0]);
    EXPECT_EQ(plan.sigqueue_of(0), nullptr);
}

TEST(RestorePlan, AnImageWithoutItsExecutablePathIsWarnedAbout) {
    RestorePlan plan;
    ProcessRecord p;
    p.process.uid[0] = p.process.uid[1] = ::geteuid();
    p.exe = "/bin/example";
    plan.process = p;
    EXPECT_TRUE(restore_warnings(plan).empty());
    plan.process->exe.clear();
    plan.process->process.flags = CKPT_PROCESS_EXE_TOO_LONG;
    const auto w = restore_warnings(plan);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(w[0], "the image records no executable path (longer than 4095 bytes): /proc/PID/exe names ckpt");
}

// The kernel's rule on the way out of a signal stop (arch/x86/kernel/
// signal.c, handle_signal() without a handler): which stopped calls restart.
TEST(RestorePlan, StoppedSystemCallsRestartAsTheKernelWould) {
    ckpt_thread t{};
    t.flags = CKPT_THREAD_IN_SYSCALL;
    t.regs[15] = 0;         // orig_rax: read
    t.regs[16] = 0x401002;  // rip, after the syscall instruction
    __u64 regs[CKPT_THREAD_NR_REGS];
    WaitTimeout timeout;
    for (long ax : {-512L, -513L, -514L}) {
        t.regs[10] = __u64(ax);
        restart_registers(t, nullptr, regs, &timeout);
        EXPECT_EQ(regs[10], 0u) << ax;
        EXPECT_EQ(regs[16], 0x401000u) << ax;
    }
    t.regs[10] = __u64(-516L);  // ERESTART_RESTARTBLOCK without its RESTART record
    restart_registers(t, nullptr, regs, &timeout);
    EXPECT_EQ(long(regs[10]), -4L);
    EXPECT_EQ(regs[16], 0x401002u);
    for (long ax : {-4L, 0L, 5L, -515L}) {  // done, or not a restart code
        t.regs[10] = __u64(ax);
        restart_registers(t, nullptr, regs, &timeout);
        EXPECT_EQ(long(regs[10]), ax);
        EXPECT_EQ(regs[16], 0x401002u);
    }
    t.flags = 0;  // not in a system call: rax is the program's
    t.regs[10] = __u64(-512L);
    restart_registers(t, nullptr, regs, &timeout);
    EXPECT_EQ(long(regs[10]), -512L);
    EXPECT_EQ(regs[16], 0x401002u);
}


// A thread stopped in a timed wait: -ERESTART_RESTARTBLOCK, the deadline
// in the RESTART record.  The wait is issued again for the time left.
class TimedWait : public ::testing::Test {
protected:
    enum { kR10 = 7, kRax = 10, kRdx = 12, kRsi = 13, kRdi = 14, kOrigRax = 15, kRip = 16, kRsp = 19 };
    void SetUp() override {
        t.flags = CKPT_THREAD_IN_SYSCALL;
        t.regs[kRax] = __u64(-516L);
        t.regs[kRip] = 0x401002;
        t.regs[kRsp] = 0x7ffd1000;
        t.regs[kRdi] = 0x1111;
        t.regs[kRsi] = 0x2222;
        t.regs[kRdx] = 0x3333;
        t.regs[kR10] = 0x4444;
        r.tid = 7;
    }
    ckpt_thread t{};
    ckpt_restart r{};
    __u64 regs[CKPT_THREAD_NR_REGS]{};
    WaitTimeout timeout;
};

TEST_F(TimedWait, NanosleepSleepsWhatWasLeftOnItsClock) {
    for (long nr : {35L, 230L, 219L}) {  // nanosleep, clock_nanosleep, restart_syscall
        t.regs[kOrigRax] = __u64(nr);
        r.kind = CKPT_RESTART_SLEEP;
        r.clockid = 7;  // CLOCK_BOOTTIME
        r.remaining_ns = 2500000001ull;
        r.rmtp = 0x7ffd2000;
        restart_registers(t, &r, regs, &timeout);
        EXPECT_EQ(regs[kRax], 230u) << nr;
        EXPECT_EQ(regs[kRip], 0x401000u) << nr;
        EXPECT_EQ(regs[kRdi], 7u) << "the clock";
        EXPECT_EQ(regs[kRsi], 0u) << "relative";
        EXPECT_EQ(regs[kRdx], timeout.addr);
        EXPECT_EQ(regs[kR10], 0x7ffd2000u) << "rem";
        EXPECT_EQ(timeout.addr, 0x7ffd1000u - 144) << "below the red zone, 16-byte aligned";
        EXPECT_EQ(timeout.tv_sec, 2);
        EXPECT_EQ(timeout.tv_nsec, 500000001);
    }
}

TEST_F(TimedWait, PollGetsTheMillisecondsLeftRoundedUp) {
    t.regs[kOrigRax] = 7;
    r.kind = CKPT_RESTART_POLL;
    r.remaining_ns = 1000001;
    restart_registers(t, &r, regs, &timeout);
    EXPECT_EQ(regs[kRax], 7u);
    EXPECT_EQ(regs[kRip], 0x401000u);
    EXPECT_EQ(regs[kRdi], 0x1111u) << "fds";
    EXPECT_EQ(regs[kRsi], 0x2222u) << "nfds";
    EXPECT_EQ(regs[kRdx], 2u);
    EXPECT_EQ(timeout.addr, 0u);
}

TEST_F(TimedWait, RelativeFutexWaitGetsTheTimeLeft) {
    t.regs[kOrigRax] = 202;
    t.regs[kRsi] = 128;  // FUTEX_WAIT_PRIVATE
    r.kind = CKPT_RESTART_FUTEX;
    r.remaining_ns = 3000000000ull;
    restart_registers(t, &r, regs, &timeout);
    EXPECT_EQ(regs[kRax], 202u);
    EXPECT_EQ(regs[kRip], 0x401000u);
    EXPECT_EQ(regs[kRdi], 0x1111u);
    EXPECT_EQ(regs[kRsi], 128u);
    EXPECT_EQ(regs[kRdx], 0x3333u) << "val";
    EXPECT_EQ(regs[kR10], timeout.addr);
    EXPECT_EQ(timeout.tv_sec, 3);
    EXPECT_EQ(timeout.tv_nsec, 0);
}

// FUTEX_WAIT_BITSET's deadline is absolute, in the process's own memory:
// the call as it was, with or without a record.
TEST_F(TimedWait, AbsoluteFutexWaitIsIssuedAsItWas) {
    t.regs[kOrigRax] = 202;
    t.regs[kRsi] = 9 | 128 | 256;  // FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME
    r.kind = CKPT_RESTART_FUTEX;
    const ckpt_restart* const records[] = {&r, nullptr};
    for (const ckpt_restart* rec : records) {
        restart_registers(t, rec, regs, &timeout);
        EXPECT_EQ(regs[kRax], 202u);
        EXPECT_EQ(regs[kRip], 0x401000u);
        EXPECT_EQ(regs[kR10], 0x4444u) << "the process's own timespec";
        EXPECT_EQ(timeout.addr, 0u);
    }
}

// Without a record (an older image, a CPU-time clock, an alarm clock), or
// where the timespec cannot be written: -EINTR, the call not issued again.
TEST_F(TimedWait, WithoutItsRecordTheWaitReturnsEintr) {
    for (long nr : {35L, 7L, 219L}) {
        t.regs[kOrigRax] = __u64(nr);
        restart_registers(t, nullptr, regs, &timeout);
        EXPECT_EQ(long(regs[kRax]), -4L) << nr;
        EXPECT_EQ(regs[kRip], 0x401002u);
        EXPECT_EQ(regs[kRdi], 0x1111u);
    }
    t.regs[kOrigRax] = 35;
    r.kind = CKPT_RESTART_SLEEP;
    restart_registers(t, &r, regs, &timeout);
    ASSERT_EQ(regs[kRax], 230u);
    interrupted_registers(t, regs);
    EXPECT_EQ(long(regs[kRax]), -4L);
    EXPECT_EQ(regs[kRip], 0x401002u);
    EXPECT_EQ(regs[kRdi], 0x1111u);
    EXPECT_EQ(regs[kRdx], 0x3333u);
}

}  // namespace
}  // namespace ckpt
