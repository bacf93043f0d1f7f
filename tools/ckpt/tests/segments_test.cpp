// The x86 segment state a restore gives back (segments.h), held against
// this machine's kernel: every descriptor modify_ldt(2) writes is found
// again from its bytes and written the same, set_thread_area(2) takes
// exactly what tls_descriptor_settable() says, and what no syscall makes
// is refused.
#include "segments.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ckpt {
namespace {

constexpr uint32_t kProbe = 5;  // LDT entries this test writes
constexpr uint32_t kBases[] = {0, 0x10000, 0x12345678, 0xffffffff};
constexpr uint32_t kLimits[] = {0, 0xfff, 0xfffff};

user_desc desc_from_bits(uint32_t base, uint32_t limit, uint32_t bits, uint32_t entry) {
    user_desc u{};
    u.entry_number = entry;
    u.base_addr = base;
    u.limit = limit;
    u.seg_32bit = bits & 1;
    u.contents = (bits >> 1) & 3;
    u.read_exec_only = (bits >> 3) & 1;
    u.limit_in_pages = (bits >> 4) & 1;
    u.seg_not_present = (bits >> 5) & 1;
    u.useable = (bits >> 6) & 1;
    return u;
}

bool write_ldt(const user_desc& u) { return ::syscall(SYS_modify_ldt, 0x11, &u, sizeof u) == 0; }

// Entry `i` of this process's LDT as the kernel holds it.
uint64_t ldt_entry(uint32_t i) {
    uint64_t table[8] = {};
    const long got = ::syscall(SYS_modify_ldt, 0, table, sizeof table);
    return long(i) * 8 < got ? table[i] : 0;
}

bool have_modify_ldt() {
    uint64_t table[1];
    return ::syscall(SYS_modify_ldt, 0, table, sizeof table) >= 0;
}

TEST(Segments, EveryDescriptorModifyLdtWritesIsFoundAgainAndWrittenTheSame) {
    if (!have_modify_ldt()) GTEST_SKIP() << "modify_ldt(2) is not available here: " << std::strerror(errno);
    int made = 0;
    for (uint32_t base : kBases) {
        for (uint32_t limit : kLimits) {
            for (uint32_t bits = 0; bits < 128; bits++) {
                if (!write_ldt(desc_from_bits(base, limit, bits, kProbe))) continue;
                const uint64_t d = ldt_entry(kProbe);
                made++;
                const std::optional<user_desc> again = user_desc_of(d, kProbe + 1);
                ASSERT_TRUE(again) << std::hex << d;
                ASSERT_TRUE(write_ldt(*again)) << std::hex << d;
                EXPECT_EQ(ldt_entry(kProbe + 1), d) << std::hex << base << " " << limit << " " << bits;
            }
        }
    }
    EXPECT_GE(made, 4 * 3 * 64) << "the kernel took fewer descriptors than a 64-bit one takes";
    user_desc none = desc_from_bits(0, 0, 1 << 3 | 1 << 5, kProbe);
    write_ldt(none);
    none.entry_number = kProbe + 1;
    write_ldt(none);
}

TEST(Segments, SetThreadAreaTakesExactlyWhatTheCheckSays) {
    if (!have_modify_ldt()) GTEST_SKIP() << "modify_ldt(2) is not available here";
    if (!ia32_syscalls_available()) GTEST_SKIP() << "no 32-bit system calls (IA32 emulation) here";
    void* low = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    ASSERT_NE(low, MAP_FAILED);
    user_desc* slot = static_cast<user_desc*>(low);
    int settable = 0;
    for (uint32_t bits = 0; bits < 128; bits++) {
        if (!write_ldt(desc_from_bits(0x10000, 0xfff, bits, kProbe))) continue;
        const uint64_t d = ldt_entry(kProbe);
        std::optional<user_desc> u = user_desc_of(d, kFirstTlsEntry);
        ASSERT_TRUE(u);
        *slot = *u;
        const bool took = set_thread_area_ia32(slot) == 0;
        EXPECT_EQ(took, tls_descriptor_settable(d)) << std::hex << d;
        if (!took) continue;
        settable++;
        *slot = user_desc{};
        slot->entry_number = kFirstTlsEntry;
        ASSERT_EQ(get_thread_area_ia32(slot), 0);
        EXPECT_EQ(std::memcmp(slot, &*u, sizeof *u), 0) << std::hex << d;
    }
    EXPECT_GT(settable, 0);
    *slot = desc_from_bits(0, 0, 1 << 3 | 1 << 5, kFirstTlsEntry);
    ASSERT_EQ(set_thread_area_ia32(slot), 0);
    EXPECT_TRUE(tls_descriptor_settable(0));
    user_desc high = *slot;
    EXPECT_EQ(set_thread_area_ia32(&high), reinterpret_cast<uintptr_t>(&high) >> 32 ? -EFAULT : 0);
    ::munmap(low, 4096);
}

TEST(Segments, WhatNoSyscallMakesIsRefused) {
    const uint64_t good = 0x00cff2010000ffffull | (uint64_t(1) << 40);  // 32-bit data, DPL 3, accessed
    ASSERT_TRUE(user_desc_of(good, 0));
    EXPECT_FALSE(user_desc_of(good & ~(uint64_t(3) << 45), 0)) << "DPL 0";
    EXPECT_FALSE(user_desc_of(good & ~(uint64_t(1) << 44), 0)) << "a system descriptor";
    EXPECT_FALSE(user_desc_of(good | (uint64_t(1) << 53), 0)) << "long mode";
    EXPECT_FALSE(user_desc_of(good & ~(uint64_t(1) << 40), 0)) << "not accessed";
    EXPECT_FALSE(user_desc_of(good | (uint64_t(0xc) << 40), 0)) << "present conforming code";
    EXPECT_FALSE(user_desc_of((uint64_t(1) << 40) | (uint64_t(1) << 44) | (uint64_t(3) << 45), 0)) << "LDT_empty";
    const std::optional<user_desc> cleared = user_desc_of(0, 7);
    ASSERT_TRUE(cleared);
    EXPECT_EQ(cleared->entry_number, 7u);
    EXPECT_TRUE(cleared->read_exec_only && cleared->seg_not_present && !cleared->base_addr && !cleared->limit);
}

ckpt_thread user_thread() {
    ckpt_thread t{};
    t.tid = 42;
    t.regs[17] = 0x33;
    t.regs[20] = 0x2b;
    return t;
}

TEST(Segments, ThreadRefusalsNameWhatCannotBeRestored) {
    EXPECT_TRUE(segment_refusals(user_thread()).empty());
    ckpt_thread t = user_thread();
    t.regs[23] = 0x2b;  // ds __USER_DS
    t.regs[24] = 0x0f;  // es: LDT entry 1, checked once the LDT is in place
    t.tls[0] = 0x00cff3010000ffffull;
    t.regs[26] = 0;
    EXPECT_TRUE(segment_refusals(t).empty());
    t.regs[23] = 0x63;  // ds: TLS entry 12
    EXPECT_TRUE(segment_refusals(t).empty());

    const struct {
        int reg;
        uint64_t value;
        const char* says;
    } cases[] = {
        {17, 0x23, "cs 0x23"}, {20, 0, "ss 0x0"}, {25, 0x63, "fs selector 0x63"}, {26, 0x7, "gs selector 0x7"},
        {23, 0x10, "ds 0x10: not a user selector"}, {24, 0x33, "es 0x33: a GDT segment"},
    };
    for (const auto& c : cases) {
        ckpt_thread bad = user_thread();
        bad.regs[c.reg] = c.value;
        const auto why = segment_refusals(bad);
        ASSERT_EQ(why.size(), 1u) << c.says;
        EXPECT_NE(why[0].find(c.says), std::string::npos) << why[0];
        EXPECT_NE(why[0].find("thread 42"), std::string::npos) << why[0];
    }
    ckpt_thread bad_tls = user_thread();
    bad_tls.tls[1] = 0x00cffa010000ffffull;  // code: set_thread_area takes data only
    EXPECT_EQ(segment_refusals(bad_tls).size(), 1u);
}

TEST(Segments, DataSelectorsAreLoadableOnlyIntoPresentDataSegments) {
    const uint64_t data = 0x00cff3010000ffffull, code_ro = 0x00cff9010000ffffull, code_rx = 0x00cffb010000ffffull,
                   absent = 0x00c073010000ffffull;
    const uint64_t ldt[] = {data, 0, code_ro, code_rx, absent};
    const __u64 tls[CKPT_THREAD_NR_TLS] = {data, 0, 0};
    EXPECT_TRUE(data_selector_loadable(0, ldt, 5, tls));
    EXPECT_TRUE(data_selector_loadable(3, ldt, 5, tls));
    EXPECT_TRUE(data_selector_loadable(0x2b, ldt, 5, tls));
    EXPECT_TRUE(data_selector_loadable(0x07, ldt, 5, tls));   // LDT 0
    EXPECT_FALSE(data_selector_loadable(0x0f, ldt, 5, tls));  // LDT 1: cleared
    EXPECT_FALSE(data_selector_loadable(0x17, ldt, 5, tls));  // LDT 2: code, not readable
    EXPECT_TRUE(data_selector_loadable(0x1f, ldt, 5, tls));   // LDT 3: readable code
    EXPECT_FALSE(data_selector_loadable(0x27, ldt, 5, tls));  // LDT 4: not present
    EXPECT_FALSE(data_selector_loadable(0x2f, ldt, 5, tls));  // LDT 5: past the table
    EXPECT_FALSE(data_selector_loadable(0x04, ldt, 5, tls));  // RPL 0
    EXPECT_TRUE(data_selector_loadable(0x63, ldt, 5, tls));   // TLS 12
    EXPECT_FALSE(data_selector_loadable(0x6b, ldt, 5, tls));  // TLS 13: unset
    EXPECT_FALSE(data_selector_loadable(0x33, ldt, 5, tls));  // __USER_CS
}

}  // namespace
}  // namespace ckpt
