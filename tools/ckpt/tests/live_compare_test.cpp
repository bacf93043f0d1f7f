#include "live_compare.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <optional>

#include "byte_source.h"
#include "fake_dump.h"
#include "image_reader.h"
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

LiveCompareResult compare(pid_t pid, const std::vector<uint8_t>& image) {
    auto cmp = LiveComparer::create(pid);
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

// The target stays stopped from the dump to the comparison: once resumed,
// the kernel may rewrite a thread's rseq area (in its TLS) when it lands on
// another CPU, and the comparison would rightly report that page.
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

}  // namespace
}  // namespace ckpt
