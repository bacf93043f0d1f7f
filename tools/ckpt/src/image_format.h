// Constants and naming helpers for the image format in <linux/ckpt.h>.
#pragma once

#include <linux/ckpt.h>

#include <cstdint>
#include <string>

namespace ckpt {

// Records are memcpy'd straight into the uapi structs: the image is
// little-endian and so must be the host.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ckpt images are little-endian");
static_assert(sizeof(ckpt_rec_hdr) == 24);
static_assert(sizeof(ckpt_head) == 104);
static_assert(sizeof(ckpt_task) == 32);
static_assert(sizeof(ckpt_mm) == 104);
static_assert(sizeof(ckpt_vma) == 64);
static_assert(sizeof(ckpt_pages) == 16);
static_assert(sizeof(ckpt_ldt) == 8);
static_assert(sizeof(ckpt_tail) == 40);
static_assert(sizeof(ckpt_process) == 2456);
static_assert(sizeof(ckpt_file) == 64);
static_assert(sizeof(ckpt_checkpoint_args) == CKPT_CHECKPOINT_ARGS_SIZE_VER1);
static_assert(sizeof(ckpt_restore_args) == CKPT_RESTORE_ARGS_SIZE_VER2);

constexpr uint64_t kRecordAlign = 8;
constexpr uint64_t kMaxRecordLen = uint64_t(1) << 30;      // any record longer is corruption
constexpr uint64_t kMaxKnownPayloadLen = uint64_t(1) << 20;  // known types but PAGES are smaller
constexpr uint32_t kMaxNameLen = 4096;                  // PATH_MAX, NUL included
constexpr uint32_t kMinPageSize = 4096;
constexpr uint32_t kMaxPageSize = 65536;
constexpr uint32_t kLdtEntrySize = 8;     // x86 segment descriptor
constexpr uint32_t kLdtMaxEntries = 8192; // LDT_ENTRIES
constexpr uint32_t kMaxXstateSize = 65536; // far above any XSAVE area today
constexpr uint32_t kMaxAuxvWords = 1024;    // AT_VECTOR_SIZE is 50 or 52 on x86-64
constexpr uint32_t kMaxGroups = 65536;      // NGROUPS_MAX

// vm_flags bits: the format's CKPT_VMA_F_* (and, in 1.0 images, the
// kernel's VM_* bits of the same values).
constexpr uint64_t kVmRead = CKPT_VMA_F_READ;
constexpr uint64_t kVmWrite = CKPT_VMA_F_WRITE;
constexpr uint64_t kVmExec = CKPT_VMA_F_EXEC;
constexpr uint64_t kVmMayShare = CKPT_VMA_F_MAYSHARE;
constexpr uint64_t kVmPfnMap = CKPT_VMA_F_PFNMAP;
constexpr uint64_t kVmIo = CKPT_VMA_F_IO;

// One format vm_flags bit, its name and its /proc/PID/smaps mnemonic.
struct VmaFlagName {
    uint64_t flag;
    const char* name;   // "dontdump"
    const char* smaps;  // "dd"; nullptr for the format's own flags
};
inline constexpr VmaFlagName kVmaFlagNames[] = {
    {CKPT_VMA_F_READ, "read", "rd"},
    {CKPT_VMA_F_WRITE, "write", "wr"},
    {CKPT_VMA_F_EXEC, "exec", "ex"},
    {CKPT_VMA_F_SHARED, "shared", "sh"},
    {CKPT_VMA_F_MAYREAD, "mayread", "mr"},
    {CKPT_VMA_F_MAYWRITE, "maywrite", "mw"},
    {CKPT_VMA_F_MAYEXEC, "mayexec", "me"},
    {CKPT_VMA_F_MAYSHARE, "mayshare", "ms"},
    {CKPT_VMA_F_GROWSDOWN, "growsdown", "gd"},
    {CKPT_VMA_F_PFNMAP, "pfnmap", "pf"},
    {CKPT_VMA_F_LOCKED, "locked", "lo"},
    {CKPT_VMA_F_IO, "io", "io"},
    {CKPT_VMA_F_DONTCOPY, "dontcopy", "dc"},
    {CKPT_VMA_F_DONTEXPAND, "dontexpand", "de"},
    {CKPT_VMA_F_LOCKONFAULT, "lockonfault", "lf"},
    {CKPT_VMA_F_NORESERVE, "noreserve", "nr"},
    {CKPT_VMA_F_HUGETLB, "hugetlb", "ht"},
    {CKPT_VMA_F_WIPEONFORK, "wipeonfork", "wf"},
    {CKPT_VMA_F_DONTDUMP, "dontdump", "dd"},
    {CKPT_VMA_F_MIXEDMAP, "mixedmap", "mm"},
    {CKPT_VMA_F_HUGEPAGE, "hugepage", "hg"},
    {CKPT_VMA_F_NOHUGEPAGE, "nohugepage", "nh"},
    {CKPT_VMA_F_MERGEABLE, "mergeable", "mg"},
    {CKPT_VMA_F_NAME_TOO_LONG, "name-too-long", nullptr},
    {CKPT_VMA_F_SHMEM, "shmem", nullptr},
};

constexpr uint64_t kKnownVmaFlags = [] {
    uint64_t all = 0;
    for (const VmaFlagName& f : kVmaFlagNames) all |= f.flag;
    return all;
}();
constexpr uint32_t kKnownMmFlags = CKPT_MM_DUMP_FILTER | CKPT_MM_THP_DISABLE | CKPT_MM_MDWE;
// "locked,dontdump": the names of the bits set, comma-separated.
std::string vma_flags_string(uint64_t flags);

// Largest PAGES payload: header, CKPT_PAGES_MAX addresses, padding, pages.
inline uint64_t max_pages_payload_len(uint64_t page_size) {
    return 16 + 8 * uint64_t(CKPT_PAGES_MAX) + page_size + uint64_t(CKPT_PAGES_MAX) * page_size;
}

inline uint64_t pad_to_record_align(uint64_t len) { return (kRecordAlign - len % kRecordAlign) % kRecordAlign; }

// "PAGES", or "type 42" for types this version does not know.
std::string record_type_name(uint32_t type);
bool is_known_record_type(uint32_t type);
// A THREAD record's register i as struct user_regs_struct names it ("rip").
const char* thread_register_name(int i);
constexpr int kRegRip = 16, kRegRsp = 19, kRegOrigRax = 15;
// "anon", "file", "shared", "special", or "kind N".
std::string vma_kind_name(uint32_t kind);
// "stopped", "frozen", "running", or "state N".
std::string task_state_name(uint32_t state);
// "regular", "fifo", "anon", ..., or "kind N".
std::string file_kind_name(uint32_t kind);
// "SIGUSR1" for 10, "SIGRT5" for 39; signals are 1..64.
std::string signal_name(int sig);
// "nofile" for RLIMIT_NOFILE (7), as prlimit(1) names them.
const char* rlimit_name(int resource);
// "x86_64" or "arch N".
std::string arch_name(uint32_t arch);
// "rw-p" as in /proc/PID/maps.
std::string perms_string(uint64_t vm_flags);
// new_encode_dev() value as "maj:min" in the hex style of /proc/PID/maps.
std::string dev_string(uint64_t dev);
std::string dev_string(uint32_t major, uint32_t minor);
uint32_t dev_major(uint64_t dev);
uint32_t dev_minor(uint64_t dev);

}  // namespace ckpt
