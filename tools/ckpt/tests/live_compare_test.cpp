#include "live_compare.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <optional>
#include <utility>

#include "byte_source.h"
#include "fake_dump.h"
#include "image_reader.h"
#include "rseq_areas.h"
#include "target_stop.h"
#include "test_process.h"

namespace ckpt {
namespace {

using test::fake_dump;
using test::FakeDumpOptions;
using test::TargetProcess;

std::string problems(const LiveCompareResult& r) {
    std::string s;
    for (const auto& p : r.problems) s += p + "\n";
    return s;
}

LiveCompareResult compare(pid_t pid, const std::vector<uint8_t>& image, const RseqAreas& rseq = {}) {
    auto cmp = LiveComparer::create(pid, rseq);
    EXPECT_TRUE(cmp) << (cmp ? "" : cmp.error().message);
    MemorySource src(image.data(), image.size());
    ImageReader reader(src);
    auto summary = reader.read(**cmp);
    EXPECT_TRUE(summary) << (summary ? "" : summary.error().message);
    return (*cmp)->finish();
}

std::vector<uint8_t> dump(pid_t pid, const FakeDumpOptions& options = {}) {
    auto image = fake_dump(pid, options);
    EXPECT_TRUE(image) << (image ? "" : image.error().message);
    return image ? *image : std::vector<uint8_t>{};
}

// The target stays stopped from the dump to the comparison, which is then
// exact without any rseq area excluded (LiveCompareRseq below covers a
// target that ran in between).
class LiveCompare : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(target.ready());
        auto s = TargetStop::acquire(target.pid(), {});
        ASSERT_TRUE(s) << s.error().message;
        stop.emplace(std::move(*s));
    }

    TargetProcess target;
    std::optional<TargetStop> stop;  // destroyed (target resumed) first
};

TEST_F(LiveCompare, FaithfulImageMatches) {
    FakeDumpOptions small_records;
    small_records.pages_per_record = 5;  // exercise many PAGES records per VMA
    auto image = dump(target.pid(), small_records);
    LiveCompareResult r = compare(target.pid(), image);
    EXPECT_TRUE(r.ok()) << problems(r);
    EXPECT_GE(r.pages_compared, 64u + 1 + 1 + 2);  // anon, zeroed, COW, shared
    EXPECT_EQ(r.pages_matched, r.pages_compared);
    EXPECT_GE(r.zero_pages_accepted, 15u);
    EXPECT_GE(r.clean_file_pages_skipped, 7u);
    EXPECT_EQ(r.vma_differences, 0u);
}

// Writes one byte through /proc/PID/mem: changes the target's memory
// without running any of its code (which would also dirty its stack).
void poke_byte(pid_t pid, uint64_t addr) {
    int fd = open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    uint8_t b = 0;
    ASSERT_EQ(pread(fd, &b, 1, off_t(addr)), 1);
    b ^= 0xFF;
    ASSERT_EQ(pwrite(fd, &b, 1, off_t(addr)), 1);
    close(fd);
}

TEST_F(LiveCompare, DetectsChangedPage) {
    auto image = dump(target.pid());
    const uint64_t page = target.anon_addr() + uint64_t(sysconf(_SC_PAGESIZE));
    poke_byte(target.pid(), page + 17);
    LiveCompareResult r = compare(target.pid(), image);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.content_mismatches, 1u) << problems(r);
    ASSERT_FALSE(r.problems.empty());
    EXPECT_EQ(r.problems[0], "page " + std::string("0x") + [&] {
        char b[32];
        snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(page));
        return std::string(b);
    }() + " differs from the process (first difference at +0x11)");
}

TEST_F(LiveCompare, DetectsMissingPage) {
    FakeDumpOptions o;
    o.drop_page = target.anon_addr() + 3 * uint64_t(sysconf(_SC_PAGESIZE));
    LiveCompareResult r = compare(target.pid(), dump(target.pid(), o));
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.missing_pages, 1u) << problems(r);
    EXPECT_EQ(r.content_mismatches, 0u);
}

TEST_F(LiveCompare, DetectsDumpedCleanFilePages) {
    FakeDumpOptions o;
    o.include_clean_file_pages = true;
    LiveCompareResult r = compare(target.pid(), dump(target.pid(), o));
    EXPECT_FALSE(r.ok());
    EXPECT_GE(r.extra_clean_file_pages, 7u) << problems(r);
}

TEST_F(LiveCompare, DetectsMissingVma) {
    FakeDumpOptions o;
    o.drop_vma_containing = target.anon_addr();
    LiveCompareResult r = compare(target.pid(), dump(target.pid(), o));
    EXPECT_FALSE(r.ok());
    EXPECT_GE(r.vma_differences, 1u) << problems(r);
    EXPECT_GE(r.missing_pages, 64u);  // its pages are not in the image either
}

TEST_F(LiveCompare, DetectsVmaFlagsThatDifferFromSmaps) {
    FakeDumpOptions o;
    o.flip_vma_flags_at = target.anon_addr();
    o.flip_vma_flags = CKPT_VMA_F_DONTDUMP | CKPT_VMA_F_MAYREAD;
    LiveCompareResult r = compare(target.pid(), dump(target.pid(), o));
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.vma_differences, 1u) << problems(r);
    EXPECT_NE(problems(r).find("flags dontdump only in the image, mayread only in the process"), std::string::npos)
        << problems(r);
}

// Two CPUs this test may run threads on, if it has them.
std::optional<std::pair<int, int>> two_cpus() {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return std::nullopt;
    int found[2], n = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && n < 2; cpu++)
        if (CPU_ISSET(cpu, &set)) found[n++] = cpu;
    if (n < 2) return std::nullopt;
    return std::make_pair(found[0], found[1]);
}

// Pins every thread of the target to cpu, then stops and resumes it: each
// thread wakes there, returns to user space and the kernel rewrites its
// rseq area (cpu_id_start, cpu_id, ...).
void move_threads_to(const TargetProcess& target, int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    auto threads = read_thread_states(target.pid());
    ASSERT_TRUE(threads);
    for (const auto& t : *threads) ASSERT_EQ(sched_setaffinity(t.tid, sizeof set, &set), 0);
    kill(target.pid(), SIGSTOP);
    ASSERT_TRUE(test::eventually_stopped(target.pid()));
    kill(target.pid(), SIGCONT);
    ASSERT_TRUE(target.wait_idle());
}

// The case verify --pid meets after a dump that resumed the target: its
// threads slept all along, yet their rseq areas changed when they woke on
// another CPU.  Those bytes are excused, and not one byte more.
TEST(LiveCompareRseq, ExcusesExactlyTheRseqAreasOfThreadsThatMoved) {
    auto cpus = two_cpus();
    if (!cpus) GTEST_SKIP() << "needs two CPUs";
    TargetProcess target;
    ASSERT_TRUE(target.ready());
    if (target.rseq_size() == 0) GTEST_SKIP() << "glibc registered no rseq area in the target";

    move_threads_to(target, cpus->first);
    std::vector<uint8_t> image;
    {
        auto stop = TargetStop::acquire(target.pid(), {});
        ASSERT_TRUE(stop) << stop.error().message;
        image = dump(target.pid());
    }
    ASSERT_TRUE(target.wait_idle());
    move_threads_to(target, cpus->second);

    auto stop = TargetStop::acquire(target.pid(), {});
    ASSERT_TRUE(stop) << stop.error().message;
    const RseqAreas rseq = find_rseq_areas(*stop);
    ASSERT_TRUE(rseq.known()) << rseq.unknown_reason;
    ASSERT_EQ(rseq.areas.size(), 2u);
    const uint64_t area_bytes = uint64_t(rseq.areas[0].size) + rseq.areas[1].size;

    LiveCompareResult plain = compare(target.pid(), image);
    EXPECT_GE(plain.content_mismatches, 1u) << "the threads' rseq areas did not change: no CPU move?";

    LiveCompareResult r = compare(target.pid(), image, rseq);
    EXPECT_TRUE(r.ok()) << problems(r);
    EXPECT_EQ(r.rseq_threads, 2u);
    EXPECT_EQ(r.rseq_bytes_excluded, area_bytes);
    EXPECT_GE(r.rseq_bytes_differed, 4u);  // cpu_id_start and cpu_id of both threads

    // The byte right before an area (glibc's struct pthread, which ends with
    // the area, at the top of a thread's stack mapping) still counts.
    const uint64_t before = rseq.areas[1].start - 1;
    poke_byte(target.pid(), before);
    r = compare(target.pid(), image, rseq);
    poke_byte(target.pid(), before);  // undo before the target runs again
    EXPECT_EQ(r.content_mismatches, 1u) << problems(r);
    ASSERT_FALSE(r.problems.empty());
    const uint64_t page_size = uint64_t(sysconf(_SC_PAGESIZE));
    EXPECT_NE(r.problems[0].find("first difference at +0x" + [&] {
        char b[32];
        snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(before % page_size));
        return std::string(b);
    }() + ")"),
              std::string::npos)
        << r.problems[0];
}

}  // namespace
}  // namespace ckpt
