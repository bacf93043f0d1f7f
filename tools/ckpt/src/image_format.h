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
static_assert(sizeof(ckpt_checkpoint_args) == CKPT_CHECKPOINT_ARGS_SIZE_VER0);

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

// vm_flags bits (include/linux/mm.h); stable for decades.
constexpr uint64_t kVmRead = 0x1;
constexpr uint64_t kVmWrite = 0x2;
constexpr uint64_t kVmExec = 0x4;
constexpr uint64_t kVmMayShare = 0x80;
constexpr uint64_t kVmPfnMap = 0x400;
constexpr uint64_t kVmIo = 0x4000;

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
