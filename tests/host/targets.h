// SPDX-License-Identifier: GPL-2.0
//
// Fake targets for the tests and the fuzz corpus, and the rule of which of
// their pages an image must hold, written from Documentation/image-format.md
// independently of the core's vma_policy.h.
#pragma once

#include <cstdint>
#include <vector>

#include "fake_bridge.h"

namespace targets {

constexpr uint64_t kBase = 0x7f0000000000;
constexpr uint64_t kPage = fake::kPageSize;

fake::Vma anon_vma(uint64_t start, uint64_t pages);
fake::Vma file_vma(uint64_t start, uint64_t pages, fake::File* file, uint64_t pgoff = 0);
fake::Vma shared_vma(uint64_t start, uint64_t pages, fake::File* file);
// Shared memory: `file` is shmem, read by page-cache index from `pgoff`.
fake::Vma shmem_vma(uint64_t start, uint64_t pages, fake::File* file, uint64_t pgoff = 0);
fake::Vma special_vma(uint64_t start, uint64_t pages, const char* name);
fake::Vma hugetlb_vma(uint64_t start, uint64_t pages, fake::File* file);

// The image's kind for a VMA: special > shared > anonymous > file.
uint32_t expected_kind(const fake::Vma& vma);
// The addresses the image must hold for `vma`, ascending.
std::vector<uint64_t> expected_pages(const fake::Mm& mm, const fake::Vma& vma);
// The page whose contents the image must hold at `addr` of `vma`.
const fake::Page* expected_page(const fake::Mm& mm, const fake::Vma& vma, uint64_t addr);

struct Target {
  fake::Task* task;
  fake::Mm* mm;
};

// A stopped target with every kind of mapping: dense, sparse and swapped
// anonymous memory, zero-page reads, a private file with clean, COW and
// swapped COW pages, shared memory, [vdso], a large sparse reservation,
// PROT_NONE, and two LDT entries.
Target every_kind(fake::Kernel& kernel, int32_t pid = 100);

// Documentation/image-format.md's worked example: one anonymous VMA
// 0x7f0000000000-0x7f0000003000 whose first and third pages hold data.
Target worked_example(fake::Kernel& kernel, int32_t pid = 100);

// A stopped target with one anonymous VMA of `pages` pages, all present.
Target dense_anon(fake::Kernel& kernel, uint64_t pages, int32_t pid = 100);

}  // namespace targets
