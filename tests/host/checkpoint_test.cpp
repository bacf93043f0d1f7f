// SPDX-License-Identifier: GPL-2.0
//
// Whole dumps through ckpt_checkpoint() (src/core/checkpoint.cpp) of fake
// targets, read back by the CLI's own image reader and compared with the
// target page by page.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "dump_check.h"
#include "page_copy.h"
#include "record_writer.h"
#include "fixture.h"
#include "image_decode.h"
#include "record_frames.h"
#include "targets.h"

namespace {

using fake::Pte;
using host_test::decode_image;
using host_test::run_dump;
using targets::kBase;
using targets::kPage;

class Checkpoint : public FakeKernelTest {
 protected:
  fake::File& out_ = kernel().open_output(3);
};

TEST_F(Checkpoint, EveryKindOfMappingRoundTrips) {
  const auto target = targets::every_kind(kernel());
  size_t swapped = 0;
  for (const auto& [addr, slot] : target.mm->slots()) swapped += slot.state == Pte::kSwapped;

  const auto dump = run_dump(100, 3);
  ASSERT_EQ(dump.ret, 0);
  const auto image = decode_image(out_.data);
  host_test::expect_image_matches(image, *target.task, *target.mm);

  EXPECT_EQ(dump.args.bytes, out_.data.size());
  EXPECT_EQ(dump.args.nr_vmas, target.mm->vmas().size());
  EXPECT_EQ(dump.args.nr_pages, image.nr_pages());
  EXPECT_EQ(dump.args.err_addr, 0u);
  EXPECT_GE(dump.args.pages_scanned, image.nr_pages());
  EXPECT_LT(dump.args.pages_scanned, 4096u) << "a 1 GiB reservation costs its populated page tables";
  EXPECT_GT(dump.args.peak_kmem, 0u);
  EXPECT_EQ(target.mm->swapins, swapped) << "only swapped-out pages are faulted in";
  EXPECT_GE(kernel().resched_calls, long(target.mm->vmas().size()));
}

// --stats' phases: the fake clock advances 1 ms per reading, so each timed
// scope counts at least 1 ms, and together they fit in the dump's clock.
TEST_F(Checkpoint, ReportsWhereItsTimeGoes) {
  const auto target = targets::every_kind(kernel());
  const uint64_t clock_before = kernel().clock_ns;
  const auto dump = run_dump(100, 3);
  ASSERT_EQ(dump.ret, 0);
  ASSERT_EQ(dump.args.nr_vmas, target.mm->vmas().size());
  ASSERT_GT(dump.args.nr_pages, 0u);
  const uint64_t ms = 1000 * 1000;
  EXPECT_GE(dump.args.vma_ns, dump.args.nr_vmas * ms);
  EXPECT_GT(dump.args.scan_ns, 0u);
  EXPECT_GT(dump.args.copy_ns, 0u);
  EXPECT_GT(dump.args.write_ns, 0u);
  EXPECT_LE(dump.args.vma_ns + dump.args.scan_ns + dump.args.copy_ns + dump.args.write_ns,
            kernel().clock_ns - clock_before);
}

// Documentation/image-format.md, "An example": the offsets of its table.
TEST_F(Checkpoint, WorkedExampleMatchesTheDocumentation) {
  const auto target = targets::worked_example(kernel());
  ASSERT_EQ(run_dump(100, 3).ret, 0);
  host_test::expect_image_matches(decode_image(out_.data), *target.task, *target.mm);

  std::string error;
  const auto frames = host_test::split_frames(out_.data, &error);
  ASSERT_EQ(error, "");
  const uint64_t offsets[] = {0, 128, 184, 2720, 3920, 4024, 4152, 4240, 16384, 16416};
  const uint64_t lengths[] = {104, 32, 2505, 1176, 76, 104, 64, 12120, 8, 40};
  ASSERT_EQ(frames.size(), 10u);
  for (size_t i = 0; i < 10; i++) {
    EXPECT_EQ(frames[i].offset, offsets[i]) << "record " << i;
    EXPECT_EQ(frames[i].hdr.len, lengths[i]) << "record " << i;
  }
  ckpt_pages pages;
  std::memcpy(&pages, frames[7].payload, sizeof(pages));
  EXPECT_EQ(pages.nr, 2u);
  EXPECT_EQ(pages.data_off, 3928u);
  EXPECT_EQ(out_.data.size(), 16480u);

  // The listing under "Its bytes": every byte it shows is the image's.
  std::ifstream doc(CKPT_IMAGE_FORMAT_DOC);
  ASSERT_TRUE(doc) << CKPT_IMAGE_FORMAT_DOC;
  std::string line;
  size_t shown = 0;
  while (std::getline(doc, line)) {
    unsigned long long offset = 0;
    int used = 0;
    if (line.size() < 10 || line[8] != ':' || std::sscanf(line.c_str(), "%8llx:%n", &offset, &used) != 1) continue;
    std::istringstream bytes(line.substr(size_t(used)));
    unsigned value = 0;
    for (uint64_t at = offset; bytes >> std::hex >> value; at++, shown++) {
      ASSERT_LT(at, out_.data.size()) << line;
      EXPECT_EQ(out_.data[at], value) << "byte " << at << " in: " << line;
    }
  }
  EXPECT_GE(shown, 400u) << "the listing is in the document";
}

// Format 1.3: the vDSO's bytes, for a restore on another kernel.
TEST_F(Checkpoint, VdsoRecordHoldsTheVdsoBytes) {
  const auto target = targets::every_kind(kernel());
  target.mm->vdso_start = 0x7ffd0000a000;
  target.mm->vdso.assign(8192, 0);
  for (size_t i = 0; i < target.mm->vdso.size(); i++) target.mm->vdso[i] = uint8_t(i * 13);
  ASSERT_EQ(run_dump(100, 3).ret, 0);
  const auto image = decode_image(out_.data);
  ASSERT_TRUE(image.ok) << image.error;
  EXPECT_EQ(image.vdso_start, 0x7ffd0000a000u);
  EXPECT_EQ(image.vdso, target.mm->vdso);
  EXPECT_EQ(image.head.minor, CKPT_FORMAT_MINOR);
}

TEST_F(Checkpoint, HardwareAndSoftwareCrcWriteTheSameImage) {
  targets::every_kind(kernel());
  fake::File& second = kernel().open_output(4);
  kernel().cpu_has_crc32c = true;
  ASSERT_EQ(run_dump(100, 3).ret, 0);
  kernel().cpu_has_crc32c = false;
  ASSERT_EQ(run_dump(100, 4).ret, 0);
  EXPECT_EQ(out_.data, second.data);
}

TEST_F(Checkpoint, LiveDumpOfARunningTarget) {
  const auto target = targets::every_kind(kernel());
  target.task->quiescence = CKPT_QUIESCENT_NONE;
  ASSERT_EQ(run_dump(100, 3, CKPT_CHECKPOINT_LIVE).ret, 0);
  host_test::expect_image_matches(decode_image(out_.data), *target.task, *target.mm, /*live=*/true);
}

// A frozen cgroup can be thawed by whoever owns it: only a ptrace stop of
// the caller's holds a target still.  Frozen and traced, it is dumped live.
TEST_F(Checkpoint, FrozenTargetMustBeHeldInPtraceStops) {
  const auto target = targets::every_kind(kernel());
  target.task->quiescence = CKPT_QUIESCENT_FROZEN;
  EXPECT_EQ(run_dump(100, 3).ret, -EBUSY);
  EXPECT_TRUE(out_.data.empty());
  ASSERT_EQ(run_dump(100, 3, CKPT_CHECKPOINT_LIVE).ret, 0);
  const auto image = decode_image(out_.data);
  host_test::expect_image_matches(image, *target.task, *target.mm, /*live=*/true);
  EXPECT_EQ(image.task.state, uint32_t(CKPT_TASK_FROZEN));
}

TEST_F(Checkpoint, StoppedTargetMayBeDumpedLive) {
  const auto target = targets::worked_example(kernel());
  ASSERT_EQ(run_dump(100, 3, CKPT_CHECKPOINT_LIVE).ret, 0);
  const auto image = decode_image(out_.data);
  host_test::expect_image_matches(image, *target.task, *target.mm, /*live=*/true);
  EXPECT_EQ(image.task.state, uint32_t(CKPT_TASK_STOPPED));
}

// Every mapping, stable or not, goes out in batches of PageBatch::kMaxPages
// pages, each copied on the worker (small ones here) while the one before is
// written.
TEST_F(Checkpoint, LargeVmaIsWrittenInBatches) {
  const auto target = targets::dense_anon(kernel(), 5000);
  const auto dump = run_dump(100, 3);
  ASSERT_EQ(dump.ret, 0);
  const auto image = decode_image(out_.data);
  host_test::expect_image_matches(image, *target.task, *target.mm);
  ASSERT_EQ(image.vmas.size(), 1u);
  const uint32_t batch = ckpt::PageBatch::kMaxPages;
  std::vector<uint32_t> expected(5000 / batch, batch);
  if (5000 % batch) expected.push_back(5000 % batch);
  EXPECT_EQ(image.vmas[0].pages_records, expected);
  EXPECT_EQ(dump.args.pages_scanned, 5000u);
  // The first batch is copied here, to time copying here.
  EXPECT_EQ(kernel().worker_runs, long(expected.size()) - 1 - (5000 % batch < ckpt::PageCopier::kWorkerMinPages))
      << "every other full batch copied by the worker";
  EXPECT_EQ(kernel().workers_running, 0);
}

// Where waiting for the worker costs more than copying here (a wake-up
// that waits for a timer tick), one trial shows it and the rest of the
// dump copies here; the image is the same.
TEST_F(Checkpoint, WorkerSlowToWakeIsGivenUp) {
  const auto target = targets::dense_anon(kernel(), 5000);
  kernel().worker_wake_ns = 4 * 1000 * 1000;  // 4 ms against 1 ms to copy here
  const auto dump = run_dump(100, 3);
  ASSERT_EQ(dump.ret, 0);
  host_test::expect_image_matches(decode_image(out_.data), *target.task, *target.mm);
  EXPECT_EQ(kernel().worker_runs, long(ckpt::PageCopier::kTrialBatches));
  EXPECT_EQ(kernel().workers_running, 0);
}

// One late wake-up in a trial is noise, not a reason to stop overlapping.
TEST_F(Checkpoint, OccasionalLateWakeUpKeepsTheWorker) {
  const auto target = targets::dense_anon(kernel(), 5000);
  kernel().worker_wake_ns = 40 * 1000 * 1000;
  kernel().worker_wake_every = long(ckpt::PageCopier::kTrialBatches);
  const auto dump = run_dump(100, 3);
  ASSERT_EQ(dump.ret, 0);
  host_test::expect_image_matches(decode_image(out_.data), *target.task, *target.mm);
  EXPECT_EQ(kernel().worker_runs, long(5000 / ckpt::PageBatch::kMaxPages));
}

TEST_F(Checkpoint, SharedMemoryIsCopiedInBatches) {
  targets::every_kind(kernel());
  ASSERT_EQ(run_dump(100, 3).ret, 0);
  const auto image = decode_image(out_.data);
  ASSERT_TRUE(image.ok) << image.error;
  for (const auto& vma : image.vmas) {
    if (vma.vma.kind == CKPT_VMA_SHARED) {
      EXPECT_EQ(vma.pages_records, (std::vector<uint32_t>{28, 9}));
    }
  }
}

// No page of the target stays held while a write blocks: a reader that
// never reads must not pin the target's memory.  (The batch on the worker
// is held until the worker has copied it, which no reader can delay: here
// it runs while the write blocks.)  And each page is read once.
TEST_F(Checkpoint, NoPageIsHeldAcrossAWrite) {
  const auto target = targets::every_kind(kernel());
  fake::Mm* mm = target.mm;
  int writes = 0, held = 0;
  out_.on_write = [&](fake::File&) {
    writes++;
    kernel().run_started_work();
    for (const auto& [addr, slot] : mm->slots())
      if (slot.page && slot.page->refs) held++;
  };
  const uint64_t copies = kernel().page_copies;
  const auto dump = run_dump(100, 3);
  out_.on_write = nullptr;
  ASSERT_EQ(dump.ret, 0);
  EXPECT_GT(writes, 3);
  EXPECT_EQ(held, 0) << "page references held during a write";
  EXPECT_EQ(kernel().page_copies - copies, dump.args.nr_pages);
  host_test::expect_image_matches(decode_image(out_.data), *target.task, *target.mm);
}

// Another process writes into the stopped target while the dump writes
// (process_vm_writev, DMA): every record's checksum still describes the
// bytes in the image.
TEST_F(Checkpoint, TargetWrittenDuringTheDumpStillVerifies) {
  const auto target = targets::dense_anon(kernel(), 500);
  fake::Mm* mm = target.mm;
  out_.on_write = [mm](fake::File&) {
    for (auto& [addr, slot] : mm->slots())
      if (slot.page) slot.page->data[addr / kPage % kPage]++;
  };
  const auto dump = run_dump(100, 3);
  out_.on_write = nullptr;
  ASSERT_EQ(dump.ret, 0);
  std::string error;
  const auto frames = host_test::split_frames(out_.data, &error);
  ASSERT_EQ(error, "");
  for (const auto& frame : frames) EXPECT_EQ(frame.hdr.crc, frame.computed_crc) << "record at " << frame.offset;
  EXPECT_TRUE(decode_image(out_.data).ok);
}

// A dump asked for XXH64 says so in HEAD, keeps HEAD's own checksum
// CRC-32C, and every later record verifies with XXH64; CRC-32C is asked
// for the same way; with neither the module's default applies.
TEST_F(Checkpoint, EachChecksumTheCallerAsksFor) {
  const auto target = targets::dense_anon(kernel(), 100);
  int fd = 4;
  for (const uint32_t flag : {0u, unsigned(CKPT_CHECKPOINT_CRC32C), unsigned(CKPT_CHECKPOINT_XXH64)}) {
    SCOPED_TRACE(flag);
    fake::File& out = kernel().open_output(fd);
    ASSERT_EQ(run_dump(100, fd++, flag).ret, 0);
    std::string error;
    const auto frames = host_test::split_frames(out.data, &error);
    ASSERT_EQ(error, "");
    ASSERT_GT(frames.size(), 3u);
    const uint8_t algorithm = frames[0].payload[offsetof(ckpt_head, checksum)];
    EXPECT_EQ(algorithm, flag == CKPT_CHECKPOINT_XXH64 ? CKPT_CSUM_XXH64 : CKPT_CSUM_CRC32C);
    // split_frames checks HEAD with CRC-32C, the records after it with
    // the algorithm HEAD names.
    for (const auto& frame : frames) EXPECT_EQ(frame.hdr.crc, frame.computed_crc) << "record at " << frame.offset;
    const auto image = decode_image(out.data);
    ASSERT_TRUE(image.ok);
    host_test::expect_image_matches(image, *target.task, *target.mm);
  }
}

// The stream starts where the fd is; alignment is relative to that start.
TEST_F(Checkpoint, ImageStartsAtTheFdPosition) {
  const auto target = targets::worked_example(kernel());
  out_.data.assign(100, 0xEE);
  ASSERT_EQ(run_dump(100, 3).ret, 0);
  host_test::expect_image_matches(decode_image(out_.data.data() + 100, out_.data.size() - 100), *target.task,
                                  *target.mm);
}

TEST_F(Checkpoint, ShortWritesMakeTheSameImage) {
  targets::every_kind(kernel());
  fake::File& chunked = kernel().open_output(4);
  chunked.max_chunk = 1000;
  ASSERT_EQ(run_dump(100, 3).ret, 0);
  ASSERT_EQ(run_dump(100, 4).ret, 0);
  EXPECT_EQ(out_.data, chunked.data);
}

TEST_F(Checkpoint, HugeSparseReservationCostsItsPageTables) {
  const auto target = targets::worked_example(kernel());
  fake::Mm& mm = *target.mm;
  const uint64_t start = kBase + (1ull << 40);
  mm.add_vma(targets::anon_vma(start, (64ull << 30) / kPage));
  mm.set(start + 3 * kPage, Pte::kAnon);
  mm.set(start + (40ull << 30), Pte::kAnon);
  const auto dump = run_dump(100, 3);
  ASSERT_EQ(dump.ret, 0);
  host_test::expect_image_matches(decode_image(out_.data), *target.task, mm);
  EXPECT_LE(dump.args.pages_scanned, decode_image(out_.data).nr_pages() + 64);
}

TEST_F(Checkpoint, ThousandsOfVmas) {
  fake::Mm& mm = kernel().new_mm();
  fake::Task& task = kernel().add_task(100, &mm);
  for (uint64_t i = 0; i < 3000; i++) {
    mm.add_vma(targets::anon_vma(kBase + i * 2 * kPage, 1));
    if (i % 3 == 0) mm.set(kBase + i * 2 * kPage, Pte::kAnon);
  }
  const auto dump = run_dump(100, 3);
  ASSERT_EQ(dump.ret, 0);
  host_test::expect_image_matches(decode_image(out_.data), task, mm);
  EXPECT_EQ(dump.args.nr_vmas, 3000u);
  EXPECT_EQ(dump.args.nr_pages, 1000u);
  EXPECT_EQ(kernel().worker_runs, 0) << "one-page batches are checksummed without waking a worker";
}

TEST_F(Checkpoint, EmptyAddressSpace) {
  fake::Mm& mm = kernel().new_mm();
  fake::Task& task = kernel().add_task(100, &mm);
  ASSERT_EQ(run_dump(100, 3).ret, 0);
  const auto image = decode_image(out_.data);
  host_test::expect_image_matches(image, task, mm);
  EXPECT_EQ(image.records, 7u) << "HEAD, TASK, PROCESS, THREAD, MM, LDT, TAIL";
}

// Two batches (their page arrays and copies), the path buffer, the staging
// buffer and the worker: whatever the target's size, under 256 KiB.
TEST_F(Checkpoint, KernelMemoryIsBounded) {
  const auto target = targets::every_kind(kernel());
  const uint64_t big = kBase + (3ull << 29);  // before the shared mapping
  target.mm->add_vma(targets::anon_vma(big, 6000));
  target.mm->fill(big, 6000, Pte::kAnon);
  const auto dump = run_dump(100, 3);
  ASSERT_EQ(dump.ret, 0);
  RecordProperty("peak_kmem", std::to_string(dump.args.peak_kmem));
  const uint64_t chain = 2 * ckpt::PageBatch::kMaxPages * sizeof(uint64_t) + 64;
  const uint64_t copy = ckpt::PageBatch::kMaxPages * kPage;
  const uint64_t staging = ckpt::RecordWriter::kStagingSize;
  const uint64_t worker = 64;
  EXPECT_LE(dump.args.peak_kmem, 2 * (chain + copy) + kPage + staging + worker);
  EXPECT_GE(dump.args.peak_kmem, 2 * copy);
  EXPECT_LE(dump.args.peak_kmem, 256u * 1024);
}

// LDT entries added between the size query and the copy (a live target).
TEST_F(Checkpoint, LdtThatGrowsOnceIsCopiedWhole) {
  const auto target = targets::every_kind(kernel());
  target.task->quiescence = CKPT_QUIESCENT_NONE;
  int copies = 0;
  target.mm->before_ldt_copy = [&copies](fake::Mm& mm) {
    if (copies++ == 1) mm.ldt.push_back(0x00cff3000000ffffull);
  };
  ASSERT_EQ(run_dump(100, 3, CKPT_CHECKPOINT_LIVE).ret, 0);
  const auto image = decode_image(out_.data);
  ASSERT_TRUE(image.ok) << image.error;
  EXPECT_EQ(image.ldt.size(), 3u);
  EXPECT_EQ(image.ldt, target.mm->ldt);
}

// A live target may move a mapping down over ground already dumped: the
// image stays well-formed (VMAs ascending, never overlapping).
TEST_F(Checkpoint, MappingMovedDownDuringALiveDumpIsClipped) {
  fake::Mm& mm = kernel().new_mm();
  fake::Task& task = kernel().add_task(100, &mm);
  task.quiescence = CKPT_QUIESCENT_NONE;
  mm.add_vma(targets::anon_vma(kBase, 4));
  mm.fill(kBase, 4, Pte::kAnon);
  mm.add_vma(targets::anon_vma(kBase + 8 * kPage, 4));
  bool moved = false;
  out_.on_write = [&](fake::File&) {
    if (moved || mm.gup_calls.empty()) return;
    moved = true;
    mm.remove_vma(kBase);
    mm.remove_vma(kBase + 8 * kPage);
    mm.add_vma(targets::anon_vma(kBase + 2 * kPage, 10));
    mm.fill(kBase + 2 * kPage, 10, Pte::kAnon, 1);
  };
  ASSERT_EQ(run_dump(100, 3, CKPT_CHECKPOINT_LIVE).ret, 0);
  ASSERT_TRUE(moved);
  const auto image = decode_image(out_.data);
  ASSERT_TRUE(image.ok) << image.error;
  ASSERT_EQ(image.vmas.size(), 2u);
  EXPECT_EQ(image.vmas[1].vma.start, kBase + 4 * kPage);
  EXPECT_EQ(image.vmas[1].vma.end, kBase + 12 * kPage);
  EXPECT_EQ(image.vmas[1].pages.size(), 8u);
}

// A live target unmaps the end of a mapping while it is dumped: the scan
// stops where the mapping now ends and the image stays well-formed.
TEST_F(Checkpoint, MappingShrunkDuringALiveDump) {
  fake::Mm& mm = kernel().new_mm();
  fake::Task& task = kernel().add_task(100, &mm);
  task.quiescence = CKPT_QUIESCENT_NONE;
  // The first write comes once two batches are gathered (page_copy.h).
  const uint32_t batch = ckpt::PageBatch::kMaxPages;
  mm.add_vma(targets::anon_vma(kBase, 5 * batch));
  mm.fill(kBase, 5 * batch, Pte::kAnon);
  bool shrunk = false;
  out_.on_write = [&](fake::File&) {
    if (shrunk || mm.gup_calls.empty()) return;
    ASSERT_EQ(mm.gup_calls.size(), 2u);
    mm.shrink_vma(kBase, kBase + 3 * batch * kPage);
    shrunk = true;
  };
  ASSERT_EQ(run_dump(100, 3, CKPT_CHECKPOINT_LIVE).ret, 0);
  ASSERT_TRUE(shrunk);
  const auto image = decode_image(out_.data);
  ASSERT_TRUE(image.ok) << image.error;
  ASSERT_EQ(image.vmas.size(), 1u);
  EXPECT_EQ(image.vmas[0].vma.end, kBase + 5 * batch * kPage) << "as it was when its record was written";
  EXPECT_EQ(image.vmas[0].pages.size(), 3 * batch);
}

}  // namespace
