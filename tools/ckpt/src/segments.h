// The x86 segments a restored process had: its LDT, installed again with
// modify_ldt(2) (the module checks the descriptors and hands them over),
// each thread's GDT TLS entries (set_thread_area(2), int $0x80), and the ds and es
// selectors each thread had loaded.  Both syscalls build a descriptor
// from a struct user_desc (fill_ldt()); restoring one means finding the
// struct that builds exactly the image's bytes.
#pragma once

#include <asm/ldt.h>
#include <linux/ckpt.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ckpt {

// GDT indices of the TLS slots (GDT_ENTRY_TLS_MIN on x86-64).
constexpr uint32_t kFirstTlsEntry = 12;

// The struct user_desc with which modify_ldt(2) (mode 0x11) writes
// `descriptor` at `entry`, or nullopt if the syscall cannot write it.
// A zero descriptor is a cleared entry (LDT_empty()).
std::optional<user_desc> user_desc_of(uint64_t descriptor, uint32_t entry);

// set_thread_area(2) and get_thread_area(2) of the 32-bit system call
// ABI (int $0x80): a 64-bit process has no other (the x86-64 table's
// entries are not implemented).  `desc` must lie below 4 GiB, else
// -EFAULT without a call.  The kernel's return value (-errno on failure).
long set_thread_area_ia32(user_desc* desc);
long get_thread_area_ia32(user_desc* desc);

// Whether this kernel has the 32-bit system call ABI (IA32 emulation);
// without it int $0x80 kills the caller, so a child asks.
bool ia32_syscalls_available();

// Whether set_thread_area(2) takes the descriptor (tls_desc_okay(): a
// cleared entry, or a present 32-bit data segment).
bool tls_descriptor_settable(uint64_t descriptor);

// What the thread's segment registers ask that a restore cannot give, one
// line each: a code or stack segment other than 64-bit user mode's, a
// non-zero fs or gs selector (their bases are restored, not selectors),
// a TLS entry set_thread_area(2) would not take, a ds or es selector
// other than null, __USER_DS, one of the thread's TLS entries, or the LDT.
std::vector<std::string> segment_refusals(const ckpt_thread& thread);

// Whether a ds or es selector can be loaded once the LDT (`ldt`, `nr`
// entries) and the thread's TLS entries are in place: null, __USER_DS, a
// present data (or readable code) segment of the TLS slots or the LDT.
bool data_selector_loadable(uint64_t selector, const uint64_t* ldt, uint32_t nr, const __u64 tls[CKPT_THREAD_NR_TLS]);

}  // namespace ckpt
