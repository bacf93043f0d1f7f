// The vDSO proxy of a restore on another kernel, tried on this process's
// own vDSO: a proxy whose every byte but the patched entry points is int3
// must still answer clock_gettime() and time() through this vDSO.
#include "vdso_proxy.h"

#include <gtest/gtest.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

namespace ckpt {
namespace {

struct OwnVdso {
    const uint8_t* base = nullptr;
    size_t size = 0;
};

OwnVdso own_vdso() {
    OwnVdso v;
    v.base = reinterpret_cast<const uint8_t*>(getauxval(AT_SYSINFO_EHDR));
    FILE* f = std::fopen("/proc/self/maps", "r");
    char line[512];
    while (f && std::fgets(line, sizeof line, f)) {
        unsigned long long s, e;
        if (std::strstr(line, "[vdso]") && std::sscanf(line, "%llx-%llx", &s, &e) == 2) v.size = size_t(e - s);
    }
    if (f) std::fclose(f);
    return v;
}

const VdsoSymbol* find(const std::vector<VdsoSymbol>& symbols, const char* name) {
    for (const VdsoSymbol& s : symbols)
        if (s.name == name) return &s;
    return nullptr;
}

TEST(VdsoProxy, ReadsTheEntryPointsOfThisKernelsVdso) {
    const OwnVdso v = own_vdso();
    if (!v.base || !v.size) GTEST_SKIP() << "this process has no vDSO";
    auto syms = vdso_symbols(v.base, v.size);
    ASSERT_TRUE(syms) << syms.error().message;
    const VdsoSymbol* a = find(*syms, "__vdso_clock_gettime");
    const VdsoSymbol* b = find(*syms, "clock_gettime");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->offset, b->offset) << "a weak alias";
    EXPECT_GT(a->size, 13u);
    EXPECT_LT(a->offset + a->size, v.size);
    EXPECT_TRUE(find(*syms, "__vdso_time"));
}

// Far apart (the absolute jump through %r11) and near (jmp rel32).
void check_proxy(bool near) {
    const OwnVdso v = own_vdso();
    if (!v.base || !v.size) GTEST_SKIP() << "this process has no vDSO";
    void* hint = near ? const_cast<uint8_t*>(v.base) - (64 << 20) : reinterpret_cast<void*>(0x200000000ull);
    void* mem = mmap(hint, v.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mem, MAP_FAILED);
    uint8_t* proxy = static_cast<uint8_t*>(mem);
    const int64_t distance = int64_t(reinterpret_cast<uintptr_t>(v.base) - reinterpret_cast<uintptr_t>(proxy));
    if (near != (distance > -(int64_t(1) << 31) && distance < (int64_t(1) << 31))) {
        munmap(mem, v.size);
        GTEST_SKIP() << "the kernel put the proxy elsewhere";
    }
    auto patches = plan_vdso_redirect(v.base, v.size, reinterpret_cast<uintptr_t>(proxy), v.base, v.size,
                                      reinterpret_cast<uintptr_t>(v.base));
    ASSERT_TRUE(patches) << patches.error().message;
    ASSERT_FALSE(patches->empty());
    for (const VdsoPatch& p : *patches) EXPECT_EQ(p.len, near ? 5 : 13);
    std::memset(proxy, 0xcc, v.size);  // int3: only the entry points may run
    apply_vdso_patches(proxy, patches->data(), patches->size());
    ASSERT_EQ(mprotect(proxy, v.size, PROT_READ | PROT_EXEC), 0);

    auto syms = vdso_symbols(v.base, v.size);
    ASSERT_TRUE(syms);
    const VdsoSymbol* cg = find(*syms, "__vdso_clock_gettime");
    const VdsoSymbol* tm = find(*syms, "__vdso_time");
    ASSERT_TRUE(cg && tm);
    using ClockGettime = int (*)(clockid_t, timespec*);
    using Time = time_t (*)(time_t*);
    timespec ts{}, before{};
    clock_gettime(CLOCK_MONOTONIC, &before);
    EXPECT_EQ(reinterpret_cast<ClockGettime>(proxy + cg->offset)(CLOCK_MONOTONIC, &ts), 0);
    EXPECT_GE(ts.tv_sec, before.tv_sec);
    const time_t now = time(nullptr);
    EXPECT_GE(reinterpret_cast<Time>(proxy + tm->offset)(nullptr), now);
    munmap(mem, v.size);
}

TEST(VdsoProxy, EntryPointsJumpFarToThisKernelsVdso) { check_proxy(false); }
TEST(VdsoProxy, EntryPointsJumpNearToThisKernelsVdso) { check_proxy(true); }

TEST(VdsoProxy, DamagedImagesAreRefused) {
    std::vector<uint8_t> junk(8192, 0x5a);
    auto r = vdso_symbols(junk.data(), junk.size());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "not an x86-64 ELF image");
    const OwnVdso v = own_vdso();
    if (!v.base || !v.size) GTEST_SKIP() << "this process has no vDSO";
    std::vector<uint8_t> cut(v.base, v.base + 512);  // the headers, not the sections
    r = vdso_symbols(cut.data(), cut.size());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "section headers cut short");
    auto p = plan_vdso_redirect(junk.data(), junk.size(), 0x1000, v.base, v.size, 0x2000);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().message, "the image's vDSO: not an x86-64 ELF image");
}

}  // namespace
}  // namespace ckpt
