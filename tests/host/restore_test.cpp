// SPDX-License-Identifier: GPL-2.0
//
// CKPT_IOC_RESTORE's reading of an image (src/core/restore.cpp): an image
// the core dumped is restored into the fake current address space page for
// page, and every damaged, hostile or unrestorable image is refused with a
// clean errno, nothing held and nothing leaked.
#include <cstring>
#include <vector>

#include "checksum.h"
#include "crc32c.h"
#include "dump_check.h"
#include "fixture.h"
#include "record_frames.h"
#include "targets.h"

namespace {

using host_test::run_dump;
using targets::kPage;

constexpr int kInputFd = 5;

// A target with what a single-threaded program has: text from a file with
// copy-on-write pages, a heap with a hole, a PROT_NONE guard holding data,
// [vdso] and a stack.
struct Program {
  targets::Target target;
  fake::File* library;
  uint64_t text = 0x555555554000, heap = 0x555555600000, guard = 0x7f0000100000, vdso = 0x7ffff7fc1000,
           stack = 0x7ffffffde000;
};

Program make_program(fake::Kernel& kernel) {
  Program p;
  fake::Mm& mm = kernel.new_mm();
  fake::Task& task = kernel.add_task(100, &mm);
  p.target = {&task, &mm};
  p.library = &kernel.new_file("/usr/bin/program");
  const fake::Vma& text = mm.add_vma(targets::file_vma(p.text, 16, p.library));
  p.library->ino = text.ino;  // the file ckpt_restore_open finds is the same
  p.library->dev = text.dev;
  p.library->size = 16 * kPage;
  mm.fill(p.text, 16, fake::Pte::kFile, 1);
  mm.set(p.text + 3 * kPage, fake::Pte::kAnon, 2);
  mm.set(p.text + 4 * kPage, fake::Pte::kAnon, 3);
  mm.add_vma(targets::anon_vma(p.heap, 40));
  mm.fill(p.heap, 40, fake::Pte::kAnon, 4);
  mm.set(p.heap + 7 * kPage, fake::Pte::kNone);
  fake::Vma guard = targets::anon_vma(p.guard, 4);
  guard.vm_flags = 0x70;  // PROT_NONE
  mm.add_vma(guard);
  mm.set(p.guard + kPage, fake::Pte::kAnon, 5);
  mm.add_vma(targets::special_vma(p.vdso, 2, "[vdso]"));
  fake::Vma stack = targets::anon_vma(p.stack, 33);
  stack.vm_flags |= CKPT_VMA_F_GROWSDOWN;
  mm.add_vma(stack);
  mm.fill(p.stack + 20 * kPage, 13, fake::Pte::kAnon, 6);
  mm.layout.start_brk = p.heap;
  mm.layout.brk = p.heap + 40 * kPage;
  mm.layout.start_stack = p.stack + 32 * kPage;
  return p;
}

class Restore : public FakeKernelTest {
 protected:
  fake::File& out_ = kernel().open_output(3);
  fake::File& in_ = kernel().open_output(kInputFd, false);

  // What ckpt restore hands the module: the records before MM read, the
  // stream positioned after MM's header.
  ckpt_restore_args args_for(const std::vector<uint8_t>& image) {
    std::string error;
    const auto frames = host_test::split_frames(image, &error);
    ckpt_restore_args args{};
    args.size = sizeof args;
    args.fd = kInputFd;
    if (!frames.empty() && frames[0].hdr.type == CKPT_REC_HEAD)
      args.checksum = frames[0].payload[offsetof(ckpt_head, checksum)];
    ckpt::Crc32c chain;
    for (const host_test::Frame& f : frames) {
      if (f.hdr.type == CKPT_REC_MM) {
        args.bytes = f.offset;
        args.mm_hdr = f.hdr;
        break;
      }
      const uint8_t le[4] = {uint8_t(f.hdr.crc), uint8_t(f.hdr.crc >> 8), uint8_t(f.hdr.crc >> 16),
                             uint8_t(f.hdr.crc >> 24)};
      chain.update(le, 4);
      args.nr_records++;
    }
    args.chain_crc = chain.state();
    return args;
  }

  int restore(const std::vector<uint8_t>& image, ckpt_restore_args* args) {
    kernel().restored = fake::Restored{};
    kernel().restored.files["/usr/bin/program"] = program_.library;
    in_.data = image;
    in_.read_pos = args->bytes + sizeof(ckpt_rec_hdr);
    return ckpt_restore(args);
  }

  std::vector<uint8_t> dumped(uint32_t flags = 0) {
    EXPECT_EQ(run_dump(100, 3, flags).ret, 0);
    return out_.data;
  }

  Program program_ = make_program(kernel());
};

// Recomputes every record's checksum and TAIL's chain after a test edited
// an image's payloads: the damage is then the edit alone.
void reseal(std::vector<uint8_t>& image) {
  std::string error;
  const auto frames = host_test::split_frames(image, &error);
  const uint32_t algorithm = frames.at(0).payload[offsetof(ckpt_head, checksum)];
  ckpt::Crc32c chain;
  for (const host_test::Frame& f : frames) {
    uint8_t* hdr = image.data() + f.offset;
    if (f.hdr.type == CKPT_REC_TAIL) {
      const uint32_t value = chain.value();
      std::memcpy(hdr + 24 + offsetof(ckpt_tail, crc), &value, 4);
    }
    ckpt::RecordChecksum crc(f.hdr.type == CKPT_REC_HEAD ? ckpt::RecordChecksum::kCrc32c : algorithm);
    crc.update(hdr, 16);
    crc.update(hdr + 24, f.hdr.len);
    const uint32_t value = crc.value();
    std::memcpy(hdr + 16, &value, 4);
    const uint8_t le[4] = {uint8_t(value), uint8_t(value >> 8), uint8_t(value >> 16), uint8_t(value >> 24)};
    chain.update(le, 4);
  }
}

// The payload of the n-th record of `type`.
uint8_t* payload_of(std::vector<uint8_t>& image, uint32_t type, int n = 0) {
  std::string error;
  for (const host_test::Frame& f : host_test::split_frames(image, &error))
    if (f.hdr.type == type && n-- == 0) return image.data() + f.offset + 24;
  return nullptr;
}

TEST_F(Restore, EveryPageAtItsAddressWithItsProtection) {
  const std::vector<uint8_t> image = dumped();
  ckpt_restore_args args = args_for(image);
  ASSERT_EQ(restore(image, &args), 0) << "err_addr " << args.err_addr;
  const fake::Restored& r = kernel().restored;
  const fake::Mm& mm = *program_.target.mm;

  EXPECT_EQ(args.nr_vmas, mm.vmas().size());
  EXPECT_EQ(args.vdso[0], program_.vdso);
  EXPECT_EQ(args.vdso[1], program_.vdso + 2 * kPage);
  ASSERT_EQ(r.maps.size(), mm.vmas().size() - 1) << "[vdso] is the restorer's to place";
  uint64_t pages = 0;
  for (const auto& [start, v] : mm.vmas()) {
    if (v.name == "[vdso]") continue;
    const fake::RestoredMapping* m = nullptr;
    for (const fake::RestoredMapping& candidate : r.maps)
      if (candidate.start == v.start) m = &candidate;
    ASSERT_NE(m, nullptr) << std::hex << v.start;
    EXPECT_EQ(m->end, v.end);
    EXPECT_EQ(m->prot, uint32_t(v.vm_flags & 7));
    EXPECT_EQ(m->growsdown, (v.vm_flags & CKPT_VMA_F_GROWSDOWN) != 0);
    EXPECT_EQ(m->file, v.file);
    EXPECT_EQ(m->pgoff, v.pgoff);
    for (uint64_t addr : targets::expected_pages(mm, v)) {
      pages++;
      const auto it = r.pages.find(addr);
      ASSERT_NE(it, r.pages.end()) << std::hex << addr;
      EXPECT_EQ(std::memcmp(it->second.data(), targets::expected_page(mm, v, addr)->data.data(), kPage), 0)
          << std::hex << addr;
    }
  }
  EXPECT_EQ(r.pages.size(), pages) << "no page the image does not hold";
  EXPECT_EQ(args.nr_pages, pages);
  ASSERT_TRUE(r.mm.has_value());
  EXPECT_EQ(r.mm->start_brk, program_.heap);
  EXPECT_EQ(r.mm->brk, program_.heap + 40 * kPage);
  EXPECT_EQ(r.mm->start_stack, program_.stack + 32 * kPage);
  EXPECT_EQ(in_.read_pos, image.size()) << "read up to TAIL's end, no further";
}

// Every bit of every record after MM's header, flipped one at a time in a
// stride: a clean EBADMSG each time (a flip in a page's contents too: the
// checksum is checked as the record ends).
TEST_F(Restore, EveryDamageIsRefused) {
  const std::vector<uint8_t> image = dumped();
  const ckpt_restore_args clean = args_for(image);
  int tried = 0;
  for (uint64_t at = clean.bytes + sizeof(ckpt_rec_hdr); at < image.size(); at += 61) {
    std::vector<uint8_t> bad = image;
    bad[at] ^= uint8_t(1u << (at % 8));
    ckpt_restore_args args = clean;
    const int ret = restore(bad, &args);
    ASSERT_EQ(ret, -EBADMSG) << "bit " << at % 8 << " of byte " << at;
    tried++;
  }
  EXPECT_GT(tried, 100);
}

// An image whose HEAD names XXH64 restores the same way, its damage is
// caught by XXH64, and the caller must pass the algorithm HEAD names.
TEST_F(Restore, AnXxh64ImageIsCheckedWithXxh64) {
  const std::vector<uint8_t> image = dumped(CKPT_CHECKPOINT_XXH64);
  const ckpt_restore_args clean = args_for(image);
  ASSERT_EQ(clean.checksum, uint32_t(CKPT_CSUM_XXH64));
  ckpt_restore_args args = clean;
  ASSERT_EQ(restore(image, &args), 0) << "err_addr " << args.err_addr;
  EXPECT_GT(args.nr_pages, 40u);

  args = clean;
  args.checksum = CKPT_CSUM_CRC32C;
  EXPECT_EQ(restore(image, &args), -EBADMSG) << "checked as CRC-32C";
  args = clean;
  args.checksum = 2;
  EXPECT_EQ(restore(image, &args), -EINVAL) << "an algorithm the module does not know";

  int tried = 0;
  for (uint64_t at = clean.bytes + sizeof(ckpt_rec_hdr); at < image.size(); at += 197) {
    std::vector<uint8_t> bad = image;
    bad[at] ^= uint8_t(1u << (at % 8));
    args = clean;
    ASSERT_EQ(restore(bad, &args), -EBADMSG) << "bit " << at % 8 << " of byte " << at;
    tried++;
  }
  EXPECT_GT(tried, 30);
}

TEST_F(Restore, EveryTruncationIsRefused) {
  const std::vector<uint8_t> image = dumped();
  const ckpt_restore_args clean = args_for(image);
  for (uint64_t len = clean.bytes + sizeof(ckpt_rec_hdr); len < image.size(); len += 53) {
    std::vector<uint8_t> cut(image.begin(), image.begin() + long(len));
    ckpt_restore_args args = clean;
    ASSERT_EQ(restore(cut, &args), -EBADMSG) << "cut at " << len;
  }
}

// A wrong count or chain from the caller is TAIL's business too.
TEST_F(Restore, TheCallersPreludeStateIsChecked) {
  const std::vector<uint8_t> image = dumped();
  ckpt_restore_args args = args_for(image);
  args.nr_records++;
  EXPECT_EQ(restore(image, &args), -EBADMSG);
  args = args_for(image);
  args.chain_crc ^= 1;
  EXPECT_EQ(restore(image, &args), -EBADMSG);
  args = args_for(image);
  args.mm_hdr.crc ^= 1;
  EXPECT_EQ(restore(image, &args), -EBADMSG);
}

// Hostile but well-sealed images: bounds the checksum cannot catch.
TEST_F(Restore, HostileVmasAndPagesAreRefused) {
  const std::vector<uint8_t> image = dumped();
  struct Case {
    const char* what;
    void (*edit)(std::vector<uint8_t>&);
    int err;
  };
  const Case cases[] = {
      {"a VMA over the kernel half",
       [](std::vector<uint8_t>& img) {
         auto* v = reinterpret_cast<ckpt_vma*>(payload_of(img, CKPT_REC_VMA, 1));
         v->start = 0xffff888000000000ull;
         v->end = 0xffff888000100000ull;
       },
       -EBADMSG},
      {"overlapping VMAs",
       [](std::vector<uint8_t>& img) {
         auto* v = reinterpret_cast<ckpt_vma*>(payload_of(img, CKPT_REC_VMA, 1));
         v->start = 0x555555554000 + kPage;  // inside the text
       },
       -EBADMSG},
      {"an unaligned VMA",
       [](std::vector<uint8_t>& img) { reinterpret_cast<ckpt_vma*>(payload_of(img, CKPT_REC_VMA, 1))->end += 8; },
       -EBADMSG},
      {"a VMA of unknown kind",
       [](std::vector<uint8_t>& img) { reinterpret_cast<ckpt_vma*>(payload_of(img, CKPT_REC_VMA, 1))->kind = 9; },
       -EBADMSG},
      {"a page outside its VMA",
       [](std::vector<uint8_t>& img) {
         uint8_t* p = payload_of(img, CKPT_REC_PAGES, 0);
         const uint64_t outside = 0x555555554000 + 64 * kPage;
         std::memcpy(p + sizeof(ckpt_pages), &outside, 8);
       },
       -EBADMSG},
      {"pages out of order",
       [](std::vector<uint8_t>& img) {
         uint8_t* p = payload_of(img, CKPT_REC_PAGES, 0);
         uint64_t a[2];
         std::memcpy(a, p + sizeof(ckpt_pages), 16);
         std::swap(a[0], a[1]);
         std::memcpy(p + sizeof(ckpt_pages), a, 16);
       },
       -EBADMSG},
      {"absurd page count",
       [](std::vector<uint8_t>& img) { reinterpret_cast<ckpt_pages*>(payload_of(img, CKPT_REC_PAGES, 0))->nr = 70000; },
       -EBADMSG},
      {"a name without its NUL",
       [](std::vector<uint8_t>& img) {
         auto* v = reinterpret_cast<ckpt_vma*>(payload_of(img, CKPT_REC_VMA, 0));
         reinterpret_cast<char*>(v + 1)[v->name_len - 1] = 'x';
       },
       -EBADMSG},
      {"a brk below start_brk",
       [](std::vector<uint8_t>& img) {
         auto* m = reinterpret_cast<ckpt_mm*>(payload_of(img, CKPT_REC_MM, 0));
         m->brk = m->start_brk - kPage;
       },
       -EBADMSG},
  };
  // The control: resealing changes nothing in an unedited image.
  std::vector<uint8_t> same = image;
  reseal(same);
  ASSERT_TRUE(same == image);
  for (const Case& c : cases) {
    std::vector<uint8_t> bad = image;
    c.edit(bad);
    reseal(bad);
    ckpt_restore_args args = args_for(bad);
    EXPECT_EQ(restore(bad, &args), c.err) << c.what;
  }
}

TEST_F(Restore, AnOverlapWithTheRestorerIsEexistNamingTheVma) {
  const std::vector<uint8_t> image = dumped();
  ckpt_restore_args args = args_for(image);
  kernel().restored = fake::Restored{};
  kernel().restored.own.push_back({program_.heap + 10 * kPage, program_.heap + 11 * kPage});
  kernel().restored.files["/usr/bin/program"] = program_.library;
  in_.data = image;
  in_.read_pos = args.bytes + sizeof(ckpt_rec_hdr);
  EXPECT_EQ(ckpt_restore(&args), -EEXIST);
  EXPECT_EQ(args.err_addr, program_.heap);
}

TEST_F(Restore, AChangedFileIsEstaleNamingTheVma) {
  const std::vector<uint8_t> image = dumped();
  fake::File& other = kernel().new_file("/usr/bin/program");
  other.ino = 4242;
  ckpt_restore_args args = args_for(image);
  kernel().restored = fake::Restored{};
  kernel().restored.files["/usr/bin/program"] = &other;
  in_.data = image;
  in_.read_pos = args.bytes + sizeof(ckpt_rec_hdr);
  EXPECT_EQ(ckpt_restore(&args), -ESTALE);
  EXPECT_EQ(args.err_addr, program_.text);
}

// What this first restore does not bring back is refused, never skipped.
TEST_F(Restore, WhatCannotBeRestoredIsEopnotsupp) {
  fake::Mm& mm = *program_.target.mm;
  // A deleted file that is not shared memory: the image holds only the
  // pages the target mapped, the rest was the file's.
  fake::File& gone = kernel().new_file("/tmp/gone (deleted)");
  mm.add_vma(targets::shared_vma(0x7f0000200000, 4, &gone));
  const std::vector<uint8_t> image = dumped();
  ckpt_restore_args args = args_for(image);
  EXPECT_EQ(restore(image, &args), -EOPNOTSUPP);
  EXPECT_EQ(args.err_addr, 0x7f0000200000u);
}

// Shared memory with no path (a memfd mapped twice, read-write and
// read-only at another offset, as a JIT maps its code; a SysV segment) is
// rebuilt: one new object per device and inode, named as before, as large
// as its VMAs need, each page written into it at its offset (the
// read-only view could not be written through), and every VMA maps it.
TEST_F(Restore, SharedMemoryWithoutAPathIsRebuiltOnceAndMappedByEachVma) {
  fake::Mm& mm = *program_.target.mm;
  fake::File& memfd = kernel().new_file("/memfd:jit (deleted)");
  fake::File& sysv = kernel().new_file("/SYSV0000002a (deleted)");
  constexpr uint64_t kRw = 0x7f0000200000, kRo = 0x7f0000300000, kSysv = 0x7f0000400000;
  mm.add_vma(targets::shmem_vma(kRw, 4, &memfd, 0));
  fake::Vma ro = targets::shmem_vma(kRo, 4, &memfd, 2);
  ro.vm_flags &= ~uint64_t(CKPT_VMA_F_WRITE);
  mm.add_vma(ro);
  mm.add_vma(targets::shmem_vma(kSysv, 2, &sysv, 0));
  memfd.size = 8 * kPage;
  sysv.size = 2 * kPage;
  for (uint64_t i : {0, 1, 3, 5}) memfd.set_cache(i, fake::Pte::kFile, kRw + i * kPage, 3);
  sysv.set_cache(1, fake::Pte::kFile, kSysv + kPage, 4);
  const std::vector<uint8_t> image = dumped();
  for (int n = 0; n < 3; n++) {
    const uint8_t* rec = payload_of(const_cast<std::vector<uint8_t>&>(image), CKPT_REC_VMA, 3 + n);  // after text, heap, guard
    ASSERT_TRUE(rec);
    ckpt_vma v;
    std::memcpy(&v, rec, sizeof v);
    EXPECT_TRUE(v.vm_flags & CKPT_VMA_F_SHMEM) << std::hex << v.start;
  }

  ckpt_restore_args args = args_for(image);
  ASSERT_EQ(restore(image, &args), 0) << std::hex << args.err_addr;
  const fake::Restored& r = kernel().restored;
  ASSERT_EQ(r.objects.size(), 2u);
  fake::File* jit = r.objects[0];
  fake::File* seg = r.objects[1];
  EXPECT_EQ(jit->path, "/memfd:jit (deleted)");
  EXPECT_EQ(seg->path, "/SYSV0000002a (deleted)");
  EXPECT_EQ(jit->size, 6 * kPage) << "the read-only view maps pages 2 to 5";
  EXPECT_EQ(seg->size, 2 * kPage);
  const struct {
    uint64_t start;
    fake::File* file;
    uint64_t pgoff;
    uint32_t prot;
  } want[] = {{kRw, jit, 0, 3}, {kRo, jit, 2, 1}, {kSysv, seg, 0, 3}};
  for (const auto& w : want) {
    const fake::RestoredMapping* m = nullptr;
    for (const fake::RestoredMapping& c : r.maps)
      if (c.start == w.start) m = &c;
    ASSERT_TRUE(m) << std::hex << w.start;
    EXPECT_TRUE(m->shared);
    EXPECT_EQ(m->file, w.file) << std::hex << w.start;
    EXPECT_EQ(m->pgoff, w.pgoff);
    EXPECT_EQ(m->prot, w.prot);
  }
  for (const auto& [addr, page] : r.pages)
    EXPECT_FALSE(addr >= kRw && addr < kSysv + 2 * kPage) << "written into a mapping: " << std::hex << addr;
  size_t held = 0;
  for (uint64_t i : {0, 1, 3, 5}) {
    const auto it = r.object_pages.find({jit, i * kPage});
    ASSERT_NE(it, r.object_pages.end()) << i;
    EXPECT_EQ(it->second, memfd.cache.at(i).page->data) << i;
    held++;
  }
  const auto it = r.object_pages.find({seg, kPage});
  ASSERT_NE(it, r.object_pages.end());
  EXPECT_EQ(it->second, sysv.cache.at(1).page->data);
  EXPECT_EQ(r.object_pages.size(), held + 1) << "no page the objects did not hold";
  EXPECT_EQ(jit->refs, 0) << "the restore's references are dropped";
  EXPECT_EQ(seg->refs, 0);

  // Every allocation failing in turn (the object table among them): a
  // clean ENOMEM, no object reference kept.
  long failed = 0;
  for (long nth = 0; nth < 8; nth++) {
    args = args_for(image);
    fake::heap::fail_nth(nth);
    const int ret = restore(image, &args);
    if (!fake::heap::fail_nth(-1)) break;
    EXPECT_EQ(ret, -ENOMEM) << "allocation " << nth;
    for (fake::File* object : kernel().restored.objects) EXPECT_EQ(object->refs, 0);
    failed++;
  }
  EXPECT_EQ(failed, 3) << "the page buffer, the address buffer, the object table";

  // An older image, without the SHMEM flag: refused as before.
  std::vector<uint8_t> old = image;
  uint8_t* rec = payload_of(old, CKPT_REC_VMA, 3);
  uint64_t flags;
  std::memcpy(&flags, rec + offsetof(ckpt_vma, vm_flags), 8);
  flags &= ~CKPT_VMA_F_SHMEM;
  std::memcpy(rec + offsetof(ckpt_vma, vm_flags), &flags, 8);
  reseal(old);
  args = args_for(old);
  EXPECT_EQ(restore(old, &args), -EOPNOTSUPP);
  EXPECT_EQ(args.err_addr, kRw);
}

// A shared mapping of a file with a path (here on tmpfs): reopened for
// writing and mapped shared; the file holds the data, so the image's
// copies of its pages are checked and not written back.
TEST_F(Restore, ASharedFileMappingMapsTheFileAndWritesNoPage) {
  fake::Mm& mm = *program_.target.mm;
  fake::File& shm = kernel().new_file("/dev/shm/data");
  const uint64_t at = 0x7f0000200000;
  const fake::Vma& v = mm.add_vma(targets::shmem_vma(at, 4, &shm, 2));
  shm.ino = v.ino;
  shm.dev = v.dev;
  shm.size = 8 * kPage;
  for (uint64_t i = 2; i < 6; i++) shm.set_cache(i, fake::Pte::kFile, at + (i - 2) * kPage, 9);
  const std::vector<uint8_t> image = dumped();
  ckpt_restore_args args = args_for(image);
  kernel().restored = fake::Restored{};
  kernel().restored.files["/usr/bin/program"] = program_.library;
  kernel().restored.files["/dev/shm/data"] = &shm;
  in_.data = image;
  in_.read_pos = args.bytes + sizeof(ckpt_rec_hdr);
  ASSERT_EQ(ckpt_restore(&args), 0) << std::hex << args.err_addr;
  const fake::RestoredMapping* m = nullptr;
  for (const fake::RestoredMapping& r : kernel().restored.maps)
    if (r.start == at) m = &r;
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->shared);
  EXPECT_EQ(m->file, &shm);
  EXPECT_EQ(m->pgoff, 2u);
  EXPECT_EQ(m->prot, 3u);
  EXPECT_TRUE(shm.opened_writable);
  for (const auto& [addr, page] : kernel().restored.pages) EXPECT_FALSE(addr >= at && addr < at + 4 * kPage) << addr;
  EXPECT_EQ(shm.refs, 0) << "the file's reference is dropped";
}

// Every allocation failing in turn: a clean ENOMEM, nothing leaked.
TEST_F(Restore, AllocationFailuresAreClean) {
  const std::vector<uint8_t> image = dumped();
  for (long nth = 0; nth < 4; nth++) {
    ckpt_restore_args args = args_for(image);
    fake::heap::fail_nth(nth);
    const int ret = restore(image, &args);
    const long failed = fake::heap::fail_nth(-1);
    if (!failed) {
      EXPECT_EQ(ret, 0);
      break;
    }
    EXPECT_EQ(ret, -ENOMEM) << "allocation " << nth;
  }
}

}  // namespace

// A VMA's attributes: MAP_NORESERVE when mapping; what only madvise(2) and
// mlock(2) set is reported to the restorer, exactly those bits, one entry
// per VMA that has any.
TEST_F(Restore, AttributesOnlyMadviseSetsAreReportedToTheRestorer) {
  constexpr uint64_t kAt = 0x7f0000200000;
  fake::Vma tuned = targets::anon_vma(kAt, 4);
  tuned.vm_flags |= CKPT_VMA_F_NORESERVE | CKPT_VMA_F_NOHUGEPAGE | CKPT_VMA_F_WIPEONFORK | CKPT_VMA_F_DONTCOPY;
  program_.target.mm->add_vma(tuned);
  program_.target.mm->fill(kAt, 4, fake::Pte::kAnon, 7);
  // [vvar] is VM_DONTDUMP, but the restorer places it: not reported.
  fake::Vma vvar = targets::special_vma(program_.vdso - 4 * kPage, 4, "[vvar]");
  vvar.vm_flags |= CKPT_VMA_F_DONTDUMP;
  program_.target.mm->add_vma(vvar);
  const std::vector<uint8_t> image = dumped();

  ckpt_restore_advice advice[4] = {};
  ckpt_restore_args args = args_for(image);
  args.advice = reinterpret_cast<uintptr_t>(advice);
  args.max_advice = 4;
  ASSERT_EQ(restore(image, &args), 0) << "err_addr " << std::hex << args.err_addr;
  ASSERT_EQ(args.nr_advice, 1u);
  EXPECT_EQ(advice[0].start, kAt);
  EXPECT_EQ(advice[0].end, kAt + 4 * kPage);
  EXPECT_EQ(advice[0].vm_flags, CKPT_VMA_F_NOHUGEPAGE | CKPT_VMA_F_WIPEONFORK | CKPT_VMA_F_DONTCOPY);
  for (const fake::RestoredMapping& m : kernel().restored.maps)
    EXPECT_EQ(m.noreserve, m.start == kAt) << std::hex << m.start;

  // No room: E2BIG naming the VMA.  The array faults: EFAULT.  No array
  // (a caller that predates it): restored without the report.
  args = args_for(image);
  args.advice = reinterpret_cast<uintptr_t>(advice);
  args.max_advice = 0;
  EXPECT_EQ(restore(image, &args), -E2BIG);
  EXPECT_EQ(args.err_addr, kAt);
  args = args_for(image);
  args.advice = reinterpret_cast<uintptr_t>(advice);
  args.max_advice = 4;
  kernel().restored = fake::Restored{};
  kernel().restored.files["/usr/bin/program"] = program_.library;
  kernel().restored.advice_faults = true;
  in_.data = image;
  in_.read_pos = args.bytes + sizeof(ckpt_rec_hdr);
  EXPECT_EQ(ckpt_restore(&args), -EFAULT);
  args = args_for(image);
  EXPECT_EQ(restore(image, &args), 0);
  EXPECT_EQ(args.nr_advice, 0u);
}

namespace {

// A descriptor as fill_ldt() builds it from a struct user_desc.
uint64_t user_descriptor(uint32_t base, uint32_t limit, uint32_t contents, bool writable, bool present, bool avl,
                         bool seg_32bit, bool pages) {
  const uint64_t type = 1 | (uint64_t(writable) << 1) | (uint64_t(contents) << 2);
  return (limit & 0xffff) | (uint64_t(base & 0xffffff) << 16) | (type << 40) | (uint64_t(1) << 44) |
         (uint64_t(3) << 45) | (uint64_t(present) << 47) | (uint64_t((limit >> 16) & 0xf) << 48) |
         (uint64_t(avl) << 52) | (uint64_t(seg_32bit) << 54) | (uint64_t(pages) << 55) | (uint64_t(base >> 24) << 56);
}

}  // namespace

// The LDT: its descriptors are checked and handed to the restorer (only
// the modify_ldt(2) syscall installs an LDT); a caller without room for
// them gets EOPNOTSUPP, too little room E2BIG, a fault EFAULT.
TEST_F(Restore, TheLdtIsHandedToTheRestorerToInstall) {
  const std::vector<uint64_t> ldt = {user_descriptor(0x10000, 0xfff, 0, true, true, true, true, true), 0,
                                     user_descriptor(0x12345678, 0xabcde, 2, true, true, false, true, false),
                                     user_descriptor(0, 0, 3, false, false, false, false, false)};
  program_.target.mm->ldt = ldt;
  const std::vector<uint8_t> image = dumped();
  std::vector<uint64_t> room(8192, 0xdead);
  ckpt_restore_args args = args_for(image);
  args.ldt = reinterpret_cast<uintptr_t>(room.data());
  args.max_ldt = uint32_t(room.size());
  ASSERT_EQ(restore(image, &args), 0);
  ASSERT_EQ(args.nr_ldt, ldt.size());
  EXPECT_EQ(std::vector<uint64_t>(room.begin(), room.begin() + 4), ldt);
  EXPECT_EQ(room[4], 0xdeadu);

  args = args_for(image);
  EXPECT_EQ(restore(image, &args), -EOPNOTSUPP);
  args = args_for(image);
  args.ldt = reinterpret_cast<uintptr_t>(room.data());
  args.max_ldt = 3;
  EXPECT_EQ(restore(image, &args), -E2BIG);
  args = args_for(image);
  args.ldt = reinterpret_cast<uintptr_t>(room.data());
  args.max_ldt = uint32_t(room.size());
  kernel().restored = fake::Restored{};
  kernel().restored.files["/usr/bin/program"] = program_.library;
  kernel().restored.ldt_faults = true;
  in_.data = image;
  in_.read_pos = args.bytes + sizeof(ckpt_rec_hdr);
  EXPECT_EQ(ckpt_restore(&args), -EFAULT);
}

// A descriptor modify_ldt(2) could not have made, or a record whose sizes
// disagree, is damage: EBADMSG before anything reaches the restorer.
TEST_F(Restore, AnLdtModifyLdtCannotMakeIsRefused) {
  const uint64_t good = user_descriptor(0x10000, 0xfff, 0, true, true, false, true, true);
  const uint64_t hostile[] = {
      good & ~(uint64_t(3) << 45),                                       // DPL 0
      good & ~(uint64_t(1) << 44),                                       // a system descriptor (S clear)
      good | (uint64_t(1) << 53),                                        // a long-mode segment
      good & ~(uint64_t(1) << 40),                                       // not accessed: fill_ldt sets it
      user_descriptor(0x10000, 0xfff, 3, true, true, false, true, true),  // present conforming code
      user_descriptor(0, 0, 0, false, false, false, false, false),         // what LDT_empty() clears
  };
  std::vector<uint64_t> room(8192);
  for (uint64_t bad : hostile) {
    program_.target.mm->ldt = {good, bad};
    const std::vector<uint8_t> image = dumped();
    ckpt_restore_args args = args_for(image);
    args.ldt = reinterpret_cast<uintptr_t>(room.data());
    args.max_ldt = uint32_t(room.size());
    EXPECT_EQ(restore(image, &args), -EBADMSG) << std::hex << bad;
    EXPECT_EQ(args.nr_ldt, 0u);
  }
  program_.target.mm->ldt = {good, good};
  std::vector<uint8_t> image = dumped();
  const struct {
    uint32_t entry_size, nr;
  } sizes[] = {{16, 2}, {8, 1}, {8, 3}, {8, 8193}};
  for (const auto& sz : sizes) {
    std::vector<uint8_t> edited = image;
    ckpt_ldt* rec = reinterpret_cast<ckpt_ldt*>(payload_of(edited, CKPT_REC_LDT));
    ASSERT_NE(rec, nullptr);
    rec->entry_size = sz.entry_size;
    rec->nr = sz.nr;
    reseal(edited);
    ckpt_restore_args args = args_for(edited);
    args.ldt = reinterpret_cast<uintptr_t>(room.data());
    args.max_ldt = uint32_t(room.size());
    EXPECT_EQ(restore(edited, &args), -EBADMSG) << sz.entry_size << " " << sz.nr;
  }
}
