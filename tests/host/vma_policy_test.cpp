// SPDX-License-Identifier: GPL-2.0
//
// src/core/vma_policy.h: which VMAs are scanned, how, and which pages stay.
#include "vma_policy.h"

#include "fixture.h"

namespace {

using ckpt::VmaKind;

uint32_t kind(uint32_t traits) { return static_cast<uint32_t>(ckpt::classify_vma(traits)); }

TEST(VmaPolicy, KindsAreTheImageKinds) {
  EXPECT_EQ(uint32_t(VmaKind::kAnon), uint32_t(CKPT_VMA_ANON));
  EXPECT_EQ(uint32_t(VmaKind::kFile), uint32_t(CKPT_VMA_FILE));
  EXPECT_EQ(uint32_t(VmaKind::kShared), uint32_t(CKPT_VMA_SHARED));
  EXPECT_EQ(uint32_t(VmaKind::kSpecial), uint32_t(CKPT_VMA_SPECIAL));
}

// Special wins over shared, shared over anonymous, anonymous over file;
// hugetlb changes nothing here (the dump refuses it elsewhere).
TEST(VmaPolicy, ClassifiesEveryTraitCombination) {
  for (uint32_t traits = 0; traits < 32; traits++) {
    uint32_t want = CKPT_VMA_ANON;
    if (traits & CKPT_VMA_T_SPECIAL)
      want = CKPT_VMA_SPECIAL;
    else if (traits & CKPT_VMA_T_SHARED)
      want = CKPT_VMA_SHARED;
    else if (traits & CKPT_VMA_T_ANONYMOUS)
      want = CKPT_VMA_ANON;
    else if (traits & CKPT_VMA_T_FILE)
      want = CKPT_VMA_FILE;
    EXPECT_EQ(kind(traits), want) << "traits 0x" << std::hex << traits;
  }
}

TEST(VmaPolicy, NamedMappings) {
  EXPECT_EQ(kind(CKPT_VMA_T_ANONYMOUS), uint32_t(CKPT_VMA_ANON)) << "heap";
  EXPECT_EQ(kind(CKPT_VMA_T_ANONYMOUS | CKPT_VMA_T_FILE), uint32_t(CKPT_VMA_ANON)) << "private /dev/zero";
  EXPECT_EQ(kind(CKPT_VMA_T_FILE), uint32_t(CKPT_VMA_FILE)) << "private file";
  EXPECT_EQ(kind(CKPT_VMA_T_FILE | CKPT_VMA_T_SHARED), uint32_t(CKPT_VMA_SHARED)) << "memfd, shmem, SysV";
  EXPECT_EQ(kind(CKPT_VMA_T_SPECIAL), uint32_t(CKPT_VMA_SPECIAL)) << "[vdso]";
  EXPECT_EQ(kind(CKPT_VMA_T_SPECIAL | CKPT_VMA_T_FILE | CKPT_VMA_T_SHARED), uint32_t(CKPT_VMA_SPECIAL)) << "VM_IO";
  EXPECT_EQ(kind(0), uint32_t(CKPT_VMA_ANON)) << "no traits at all";
}

TEST(VmaPolicy, OnlySpecialMappingsAreNotScanned) {
  EXPECT_TRUE(ckpt::scans_pages(VmaKind::kAnon));
  EXPECT_TRUE(ckpt::scans_pages(VmaKind::kFile));
  EXPECT_TRUE(ckpt::scans_pages(VmaKind::kShared));
  EXPECT_FALSE(ckpt::scans_pages(VmaKind::kSpecial));
}

// Shared memory comes from its shmem file; a private mapping of a shmem
// file keeps only its copy-on-write copies; other shared files what the
// target maps.
TEST(VmaPolicy, OnlySharedShmemIsReadFromItsFile) {
  const uint32_t shared = CKPT_VMA_T_FILE | CKPT_VMA_T_SHARED;
  EXPECT_TRUE(ckpt::reads_page_cache(ckpt::classify_vma(shared | CKPT_VMA_T_SHMEM), shared | CKPT_VMA_T_SHMEM));
  EXPECT_FALSE(ckpt::reads_page_cache(ckpt::classify_vma(shared), shared)) << "ext4 file";
  EXPECT_FALSE(ckpt::reads_page_cache(ckpt::classify_vma(CKPT_VMA_T_FILE | CKPT_VMA_T_SHMEM),
                                      CKPT_VMA_T_FILE | CKPT_VMA_T_SHMEM)) << "private memfd";
  const uint32_t special = shared | CKPT_VMA_T_SHMEM | CKPT_VMA_T_SPECIAL;
  EXPECT_FALSE(ckpt::reads_page_cache(ckpt::classify_vma(special), special));
}

// A fault outside anonymous memory would read the file or allocate shmem.
TEST(VmaPolicy, FaultsOnlyInAnonymousMemory) {
  EXPECT_EQ(ckpt::gup_mode(VmaKind::kAnon), uint32_t(CKPT_GUP_FAULT));
  EXPECT_EQ(ckpt::gup_mode(VmaKind::kFile), uint32_t(CKPT_GUP_NOFAULT));
  EXPECT_EQ(ckpt::gup_mode(VmaKind::kShared), uint32_t(CKPT_GUP_NOFAULT));
  EXPECT_EQ(ckpt::gup_mode(VmaKind::kSpecial), uint32_t(CKPT_GUP_NOFAULT));
}

class VmaPolicyPages : public FakeKernelTest {};

TEST_F(VmaPolicyPages, PrivateFileKeepsOnlyCopiesOnWrite) {
  fake::Mm& mm = kernel().new_mm();
  ckpt_page_ref* cow = held_page(mm, 0x1000, 0, fake::Pte::kAnon);
  ckpt_page_ref* cached = held_page(mm, 0x2000, 0, fake::Pte::kFile);
  EXPECT_TRUE(ckpt::keeps_page(VmaKind::kFile, cow));
  EXPECT_FALSE(ckpt::keeps_page(VmaKind::kFile, cached));
  ckpt_page_put(cow);
  ckpt_page_put(cached);
}

TEST_F(VmaPolicyPages, OtherKindsKeepEveryPage) {
  fake::Mm& mm = kernel().new_mm();
  ckpt_page_ref* anon = held_page(mm, 0x1000, 0, fake::Pte::kAnon);
  ckpt_page_ref* cached = held_page(mm, 0x2000, 0, fake::Pte::kFile);
  for (VmaKind kind : {VmaKind::kAnon, VmaKind::kShared, VmaKind::kSpecial}) {
    EXPECT_TRUE(ckpt::keeps_page(kind, anon));
    EXPECT_TRUE(ckpt::keeps_page(kind, cached));
  }
  ckpt_page_put(anon);
  ckpt_page_put(cached);
}

}  // namespace
