// PROCESS and FILE records against /proc: the parsers, and that every
// compared field is noticed when it differs.
#include "process_compare.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <vector>

#include "process_snapshot.h"

namespace ckpt {
namespace {

TEST(ProcessSnapshot, ParsesLimitsInRlimitOrder) {
    const std::string text =
        "Limit                     Soft Limit           Hard Limit           Units     \n"
        "Max cpu time              unlimited            unlimited            seconds   \n"
        "Max file size             unlimited            unlimited            bytes     \n"
        "Max data size             unlimited            unlimited            bytes     \n"
        "Max stack size            8388608              unlimited            bytes     \n"
        "Max core file size        0                    unlimited            bytes     \n"
        "Max resident set          unlimited            unlimited            bytes     \n"
        "Max processes             95614                95614                processes \n"
        "Max open files            1024                 524288               files     \n"
        "Max locked memory         8388608              8388608              bytes     \n"
        "Max address space         unlimited            unlimited            bytes     \n"
        "Max file locks            unlimited            unlimited            locks     \n"
        "Max pending signals       95614                95614                signals   \n"
        "Max msgqueue size         819200               819200               bytes     \n"
        "Max nice priority         0                    0                    \n"
        "Max realtime priority     0                    0                    \n"
        "Max realtime timeout      unlimited            unlimited            us        \n";
    ProcessSnapshot s;
    ASSERT_TRUE(parse_limits_into(text, &s));
    EXPECT_EQ(s.fixed.rlim[0][0], ~0ull);
    EXPECT_EQ(s.fixed.rlim[3][0], 8388608u);
    EXPECT_EQ(s.fixed.rlim[3][1], ~0ull);
    EXPECT_EQ(s.fixed.rlim[4][0], 0u);
    EXPECT_EQ(s.fixed.rlim[7][0], 1024u);
    EXPECT_EQ(s.fixed.rlim[7][1], 524288u);
    EXPECT_EQ(s.fixed.rlim[15][1], ~0ull);
    EXPECT_FALSE(parse_limits_into(text.substr(0, text.size() / 2), &s));
}

TEST(ProcessSnapshot, ParsesStatus) {
    const std::string text =
        "Name:\tcat\nUmask:\t0027\nState:\tR (running)\nTgid:\t4321\nNgid:\t0\nPid:\t4321\nPPid:\t99\n"
        "TracerPid:\t0\nUid:\t1000\t1001\t1002\t1003\nGid:\t20\t21\t22\t23\nFDSize:\t64\nGroups:\t4 24 27 \n"
        "NStgid:\t4321\t7\nNSpid:\t4325\t9\nShdPnd:\t0000000000000100\nSigBlk:\t0000000000000000\n"
        "SigIgn:\t0000000000001000\nSigCgt:\t0000000000000200\nCapInh:\t0000000000000000\n"
        "CapPrm:\t00000000000000ff\nCapEff:\t000000000000000f\nCapBnd:\t000001ffffffffff\n"
        "CapAmb:\t0000000000000001\nNoNewPrivs:\t1\nSeccomp:\t0\n";
    ProcessSnapshot s;
    ASSERT_TRUE(parse_status_into(text, &s));
    EXPECT_EQ(s.fixed.pid, 4321);
    EXPECT_EQ(s.fixed.ns_pid, 7);
    EXPECT_EQ(s.fixed.ppid, 99);
    EXPECT_EQ(s.fixed.umask, 027u);
    EXPECT_EQ(s.fixed.uid[1], 1001u);
    EXPECT_EQ(s.fixed.gid[3], 23u);
    EXPECT_EQ(s.groups, (std::vector<uint32_t>{4, 24, 27}));
    EXPECT_EQ(s.fixed.sig_pending, 0x100u);
    EXPECT_EQ(s.sig_ignored, 0x1000u);
    EXPECT_EQ(s.sig_caught, 0x200u);
    EXPECT_EQ(s.fixed.cap_permitted, 0xffu);
    EXPECT_EQ(s.fixed.cap_bset, 0x1ffffffffffull);
    EXPECT_EQ(s.fixed.cap_ambient, 1u);
    EXPECT_EQ(s.fixed.flags, uint32_t(CKPT_PROCESS_NO_NEW_PRIVS));
    EXPECT_FALSE(parse_status_into("Name:\tcat\nUid:\t1\t2\n", &s));
}

TEST(ProcessSnapshot, ParsesFdinfoAndKinds) {
    uint64_t pos = 0, ino = 0;
    uint32_t flags = 0;
    ASSERT_TRUE(parse_fdinfo("pos:\t4096\nflags:\t02100002\nmnt_id:\t25\nino:\t1234\n", &pos, &flags, &ino));
    EXPECT_EQ(pos, 4096u);
    EXPECT_EQ(flags, 02100002u);
    EXPECT_EQ(ino, 1234u);
    EXPECT_FALSE(parse_fdinfo("mnt_id:\t25\n", &pos, &flags, &ino));
    EXPECT_EQ(file_kind_for(S_IFREG | 0644, "/etc/passwd"), uint32_t(CKPT_FILE_REGULAR));
    EXPECT_EQ(file_kind_for(S_IFIFO | 0600, "pipe:[42]"), uint32_t(CKPT_FILE_FIFO));
    EXPECT_EQ(file_kind_for(0600, "anon_inode:[eventfd]"), uint32_t(CKPT_FILE_ANON));
    EXPECT_EQ(file_kind_for(S_IFREG | 0400, "anon_inode:[pidfd]"), uint32_t(CKPT_FILE_ANON));
    EXPECT_EQ(file_kind_for(S_IFCHR | 0666, "/dev/null"), uint32_t(CKPT_FILE_CHAR));
}

// This process, read from /proc, turned into the records a dump would hold.
struct Recorded {
    ProcessSnapshot now;
    ProcessRecord process;
    std::vector<FileRecord> files;
};

Recorded record_self() {
    Recorded r;
    auto now = read_process_snapshot(::getpid());
    EXPECT_TRUE(now) << (now ? "" : now.error().message);
    if (!now) return r;
    r.now = *now;
    r.process.process = r.now.fixed;
    for (int i = 0; i < CKPT_NR_SIGNALS; i++) {
        if (r.now.sig_ignored & (1ull << i)) r.process.process.action[i].handler = 1;
        if (r.now.sig_caught & (1ull << i)) r.process.process.action[i].handler = 0x1000;
    }
    r.process.auxv = r.now.auxv;
    r.process.groups = r.now.groups;
    r.process.exe = r.now.exe;
    r.process.cwd = r.now.cwd;
    r.process.root = r.now.root;
    for (const FileSnapshot& f : r.now.files) {
        FileRecord rec;
        rec.file = f.file;
        rec.path = f.path;
        r.files.push_back(rec);
    }
    return r;
}

uint64_t differences(const Recorded& r) {
    LiveCompareResult result;
    compare_process(&r.process, r.files, r.now, &result);
    EXPECT_TRUE(result.process_compared);
    return result.process_differences;
}

TEST(ProcessCompare, SelfMatchesItsOwnSnapshot) {
    const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    Recorded r = record_self();
    ::close(fd);
    EXPECT_FALSE(r.now.exe.empty());
    EXPECT_GE(r.now.auxv.size(), 2u);
    EXPECT_GE(r.now.files.size(), 1u);
    EXPECT_EQ(differences(r), 0u);
}

TEST(ProcessCompare, EveryComparedFieldIsNoticed) {
    const int fd = ::open("/proc/self/status", O_RDONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::lseek(fd, 3, SEEK_SET), 3);
    const Recorded base = record_self();
    ::close(fd);
    ASSERT_EQ(differences(base), 0u);
    const FileRecord* opened = nullptr;
    for (const FileRecord& f : base.files)
        if (f.file.fd == uint32_t(fd)) opened = &f;
    ASSERT_NE(opened, nullptr);
    EXPECT_EQ(opened->file.pos, 3u);
    const size_t at = size_t(opened - base.files.data());

    const std::vector<std::pair<const char*, std::function<void(Recorded&)>>> changes = {
        {"pid", [](Recorded& r) { r.process.process.pid++; }},
        {"parent pid", [](Recorded& r) { r.process.process.ppid++; }},
        {"process group", [](Recorded& r) { r.process.process.pgid++; }},
        {"session", [](Recorded& r) { r.process.process.sid++; }},
        {"exit signal", [](Recorded& r) { r.process.process.exit_signal++; }},
        {"umask", [](Recorded& r) { r.process.process.umask ^= 02; }},
        {"saved uid", [](Recorded& r) { r.process.process.uid[2]++; }},
        {"filesystem gid", [](Recorded& r) { r.process.process.gid[3]++; }},
        {"bounding capabilities", [](Recorded& r) { r.process.process.cap_bset ^= 1; }},
        {"no_new_privs", [](Recorded& r) { r.process.process.flags ^= CKPT_PROCESS_NO_NEW_PRIVS; }},
        {"ShdPnd", [](Recorded& r) { r.process.process.sig_pending ^= 1u << 9; }},
        {"SigIgn", [](Recorded& r) { r.process.process.action[9].handler ^= 1; }},
        {"limit nofile (soft)", [](Recorded& r) { r.process.process.rlim[7][0]--; }},
        {"auxiliary vector", [](Recorded& r) { r.process.auxv[1]++; }},
        {"supplementary groups", [](Recorded& r) { r.process.groups.push_back(4242); }},
        {"executable", [](Recorded& r) { r.process.exe += "x"; }},
        {"working directory", [](Recorded& r) { r.process.cwd += "x"; }},
        {"root directory", [](Recorded& r) { r.process.root += "x"; }},
        {"offset", [at](Recorded& r) { r.files[at].file.pos++; }},
        {"flags", [at](Recorded& r) { r.files[at].file.f_flags ^= 04000; }},  // O_NONBLOCK
        {"close-on-exec", [at](Recorded& r) { r.files[at].file.fd_flags ^= CKPT_FILE_CLOEXEC; }},
        {"inode", [at](Recorded& r) { r.files[at].file.ino++; }},
        {"device", [at](Recorded& r) { r.files[at].file.dev++; }},
        {"mode", [at](Recorded& r) { r.files[at].file.mode ^= 1; }},
        {"kind", [at](Recorded& r) { r.files[at].file.kind = CKPT_FILE_SOCKET; }},
        {"path", [at](Recorded& r) { r.files[at].path += "x"; }},
        {"not open in the process", [](Recorded& r) { r.files.push_back(r.files.back()), r.files.back().file.fd += 1000; }},
        {"not in the image", [at](Recorded& r) { r.files.erase(r.files.begin() + long(at)); }},
    };
    for (const auto& [what, change] : changes) {
        Recorded r = base;
        change(r);
        LiveCompareResult result;
        compare_process(&r.process, r.files, r.now, &result);
        EXPECT_EQ(result.process_differences, 1u) << what;
        ASSERT_EQ(result.problems.size(), 1u) << what;
        EXPECT_NE(result.problems[0].find(what), std::string::npos) << what << ": " << result.problems[0];
        EXPECT_FALSE(result.ok()) << what;
    }
}

TEST(ProcessCompare, AChangedFileSizeIsAWarning) {
    Recorded r = record_self();
    ASSERT_FALSE(r.files.empty());
    r.files[0].file.size += 10;
    LiveCompareResult result;
    compare_process(&r.process, r.files, r.now, &result);
    EXPECT_EQ(result.process_differences, 0u);
    EXPECT_TRUE(result.ok());
    ASSERT_EQ(result.warnings.size(), 1u);
    EXPECT_NE(result.warnings[0].find("the file changed since the dump"), std::string::npos) << result.warnings[0];
}

TEST(ProcessCompare, NothingToCompareInA10Image) {
    LiveCompareResult result;
    compare_process(nullptr, {}, ProcessSnapshot{}, &result);
    EXPECT_FALSE(result.process_compared);
    EXPECT_TRUE(result.ok());
}

}  // namespace
}  // namespace ckpt
