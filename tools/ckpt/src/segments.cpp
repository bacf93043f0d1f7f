#include "segments.h"

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "format_util.h"

namespace ckpt {
namespace {

// struct user_regs_struct indices.
enum { kCs = 17, kSs = 20, kDs = 23, kEs = 24, kFs = 25, kGs = 26 };
constexpr uint64_t kUserCs = 0x33, kUserDs = 0x2b;  // __USER_CS, __USER_DS

struct Fields {
    uint32_t base, limit, type;
    bool s, present, avl, l, db, g;
    uint32_t dpl;
};

Fields fields_of(uint64_t d) {
    return {uint32_t(((d >> 16) & 0xffffff) | ((d >> 56) << 24)),
            uint32_t((d & 0xffff) | (((d >> 48) & 0xf) << 16)),
            uint32_t(d >> 40) & 0xf,
            bool((d >> 44) & 1),
            bool((d >> 47) & 1),
            bool((d >> 52) & 1),
            bool((d >> 53) & 1),
            bool((d >> 54) & 1),
            bool((d >> 55) & 1),
            uint32_t(d >> 45) & 3};
}

bool is_empty(const user_desc& u) {  // LDT_empty()
    return u.base_addr == 0 && u.limit == 0 && u.contents == 0 && u.read_exec_only == 1 && u.seg_32bit == 0 &&
           u.limit_in_pages == 0 && u.seg_not_present == 1 && u.useable == 0;
}

// A present segment ds or es may hold: data, or readable code.
bool loadable_segment(uint64_t d) {
    const Fields f = fields_of(d);
    return d && f.present && f.s && f.dpl == 3 && (!(f.type & 8) || (f.type & 2));
}

}  // namespace

std::optional<user_desc> user_desc_of(uint64_t descriptor, uint32_t entry) {
    user_desc u{};
    u.entry_number = entry;
    if (descriptor == 0) {  // LDT_empty(): the entry is cleared
        u.read_exec_only = 1;
        u.seg_not_present = 1;
        return u;
    }
    const Fields f = fields_of(descriptor);
    // fill_ldt() always sets the accessed bit, S and DPL 3, never L.
    if (!(f.type & 1) || !f.s || f.dpl != 3 || f.l) return std::nullopt;
    u.base_addr = f.base;
    u.limit = f.limit;
    u.read_exec_only = (f.type & 2) ? 0 : 1;
    u.contents = f.type >> 2;
    u.seg_not_present = f.present ? 0 : 1;
    u.useable = f.avl;
    u.seg_32bit = f.db;
    u.limit_in_pages = f.g;
    if (u.contents == 3 && f.present) return std::nullopt;  // write_ldt() refuses it
    if (is_empty(u)) return std::nullopt;                   // written as zero, not as itself
    return u;
}

namespace {

long int80(long nr, user_desc* desc) {
    if (reinterpret_cast<uintptr_t>(desc) >> 32) return -EFAULT;  // the 32-bit ABI truncates it
    long ret;
    asm volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(desc) : "memory");
    return ret;
}

}  // namespace

long set_thread_area_ia32(user_desc* desc) { return int80(243, desc); }  // __NR_set_thread_area (i386)
long get_thread_area_ia32(user_desc* desc) { return int80(244, desc); }  // __NR_get_thread_area (i386)

bool ia32_syscalls_available() {
    void* low = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (low == MAP_FAILED) return false;
    auto* desc = static_cast<user_desc*>(low);
    desc->entry_number = kFirstTlsEntry;
    const pid_t child = ::fork();
    if (child == 0) ::_exit(get_thread_area_ia32(desc) == 0 ? 0 : 1);
    int status = 0;
    const bool ok = child > 0 && ::waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    ::munmap(low, 4096);
    return ok;
}

bool tls_descriptor_settable(uint64_t descriptor) {
    if (descriptor == 0) return true;
    const std::optional<user_desc> u = user_desc_of(descriptor, kFirstTlsEntry);
    return u && u->seg_32bit && u->contents <= 1 && !u->seg_not_present;
}

std::vector<std::string> segment_refusals(const ckpt_thread& thread) {
    std::vector<std::string> out;
    const std::string who = "thread " + std::to_string(thread.tid);
    const __u64* r = thread.regs;
    if (r[kCs] != kUserCs || r[kSs] != kUserDs)
        out.push_back(who + " was running with cs " + hex(r[kCs]) + " ss " + hex(r[kSs]) +
                      ", not 64-bit user mode's: not restored");
    if (r[kFs] || r[kGs])
        out.push_back(who + " has fs selector " + hex(r[kFs]) + " gs selector " + hex(r[kGs]) +
                      ": only the fs and gs bases are restored");
    for (uint32_t i = 0; i < CKPT_THREAD_NR_TLS; i++)
        if (!tls_descriptor_settable(thread.tls[i]))
            out.push_back(who + " has a TLS descriptor set_thread_area() cannot set: " + hex(thread.tls[i]));
    for (int reg : {kDs, kEs}) {
        const uint64_t sel = r[reg];
        if (sel > 0xffff || (sel > 3 && (sel & 3) != 3))
            out.push_back(who + " has " + (reg == kDs ? "ds" : "es") + " " + hex(sel) + ": not a user selector");
        else if (sel > 3 && !(sel & 4) && sel != kUserDs &&
                 !((sel >> 3) >= kFirstTlsEntry && (sel >> 3) < kFirstTlsEntry + CKPT_THREAD_NR_TLS))
            out.push_back(who + " has " + (reg == kDs ? "ds" : "es") + " " + hex(sel) +
                          ": a GDT segment other than __USER_DS and the TLS slots");
    }
    return out;
}

bool data_selector_loadable(uint64_t selector, const uint64_t* ldt, uint32_t nr,
                            const __u64 tls[CKPT_THREAD_NR_TLS]) {
    if (selector <= 3) return true;  // null
    if (selector > 0xffff || (selector & 3) != 3) return false;
    const uint64_t index = selector >> 3;
    if (selector & 4) return index < nr && loadable_segment(ldt[index]);
    if (selector == kUserDs) return true;
    return index >= kFirstTlsEntry && index < kFirstTlsEntry + CKPT_THREAD_NR_TLS &&
           loadable_segment(tls[index - kFirstTlsEntry]);
}

}  // namespace ckpt
