// SPDX-License-Identifier: GPL-2.0
//
// Which pages of a VMA belong in the image: the selection rules, kept apart
// from the mechanism that finds the pages.
//
//   kind      pages dumped                        how they are found
//   anon      every page holding data, swapped    GUP with faults: FOLL_DUMP
//             out or not; no holes, no zero page  makes holes and the zero
//                                                 page errors, not faults
//   file      only copy-on-write copies (anon     GUP without faults; file
//             pages); the file's own pages stay   pages are dropped
//   shared    every page of the shmem file in the  the file's page cache, by
//   (shmem)   mapped range that holds data, in     index; swapped pages read
//             memory or on swap, touched or not    in, holes never allocated
//   shared    every page the target maps          GUP without faults
//   (other)
//   special   none ([vdso], [vvar], VM_IO, ...)   not scanned
#pragma once

#include <stdint.h>

#include <ckpt/bridge.h>
#include <linux/ckpt.h>

namespace ckpt {

enum class VmaKind : uint32_t {
  kAnon = CKPT_VMA_ANON,
  kFile = CKPT_VMA_FILE,
  kShared = CKPT_VMA_SHARED,
  kSpecial = CKPT_VMA_SPECIAL,
};

// Sharing wins over everything (a shared anonymous mapping is shmem);
// special mappings hold no user data we could restore; a private mapping
// with no vm_ops is anonymous even if it names a file (/dev/zero).
inline VmaKind classify_vma(uint32_t traits) {
  if (traits & CKPT_VMA_T_SPECIAL) return VmaKind::kSpecial;
  if (traits & CKPT_VMA_T_SHARED) return VmaKind::kShared;
  if (traits & CKPT_VMA_T_ANONYMOUS) return VmaKind::kAnon;
  if (traits & CKPT_VMA_T_FILE) return VmaKind::kFile;
  return VmaKind::kAnon;
}

inline bool scans_pages(VmaKind kind) { return kind != VmaKind::kSpecial; }

// Faulting is safe only where FOLL_DUMP stops it at holes: anonymous memory.
// Elsewhere a fault would read the file or allocate shmem.
inline uint32_t gup_mode(VmaKind kind) {
  return kind == VmaKind::kAnon ? CKPT_GUP_FAULT : CKPT_GUP_NOFAULT;
}

// Shared memory's data is its shmem file's (MAP_SHARED|MAP_ANONYMOUS,
// memfd, SysV shm, tmpfs): the target's page tables show only the pages it
// touched since it was forked, and none that went to swap.
inline bool reads_page_cache(VmaKind kind, uint32_t traits) {
  return kind == VmaKind::kShared && (traits & CKPT_VMA_T_SHMEM);
}

// Whether a page GUP returned goes into the image.
inline bool keeps_page(VmaKind kind, ckpt_page_ref* page) {
  if (kind == VmaKind::kFile) return ckpt_page_is_anon(page);
  return true;
}

}  // namespace ckpt
