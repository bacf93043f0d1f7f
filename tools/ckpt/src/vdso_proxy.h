// A restore on another kernel: the process's C library holds pointers
// into the vDSO it started with (the image's, format 1.3 VDSO record),
// whose code reads its own kernel's [vvar] layout.  The restorer maps a
// copy of that vDSO where it was (a proxy) and points each of its entry
// points at the same-named one of this kernel's vDSO, as CRIU does: a
// jump, rel32 where this kernel's vDSO is within reach, else through %r11
// (scratch at a call, as the ABI has it).  An entry point this kernel's
// vDSO lacks returns -ENOSYS, what the C library's fallback checks for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "expected.h"

namespace ckpt {

// An exported function of a vDSO image: offset from the image's start.
struct VdsoSymbol {
    std::string name;
    uint64_t offset = 0;
    uint64_t size = 0;
};

// The exported functions of a vDSO image (an x86-64 ELF shared object,
// as the kernel maps it), from its dynamic symbol table.  A format error
// says what is wrong with the image ("no dynamic symbol table").
Expected<std::vector<VdsoSymbol>> vdso_symbols(const uint8_t* image, size_t size);

// Bytes to write at `offset` into the proxy.
struct VdsoPatch {
    uint64_t offset = 0;
    uint8_t bytes[16] = {};
    uint8_t len = 0;
};

// The patches that send every entry point of `old_image` (to be mapped at
// `old_base`) to the same-named one of `new_image` (mapped at `new_base`).
// Fails if an entry point is too small to hold its jump.
Expected<std::vector<VdsoPatch>> plan_vdso_redirect(const uint8_t* old_image, size_t old_size, uint64_t old_base,
                                                    const uint8_t* new_image, size_t new_size, uint64_t new_base);

// Writes the patches into `proxy` (a writable copy of the old image).
// Allocates nothing: the restorer runs it once the image's heap is in place.
void apply_vdso_patches(uint8_t* proxy, const VdsoPatch* patches, size_t nr);

}  // namespace ckpt
