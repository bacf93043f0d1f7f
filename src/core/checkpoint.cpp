// SPDX-License-Identifier: GPL-2.0
//
// The dump sequence, in the spirit of the seed's cr_write_mm() and of the
// core dumper: metadata is copied under the mmap lock, and pages are taken a
// bounded batch at a time under the lock and written with it dropped, so no
// lock is held across a write and kernel memory does not grow with the
// target.
#include "checkpoint.h"

#include "arch.h"
#include "page_scan.h"
#include "process_records.h"
#include "target_hold.h"

namespace ckpt {

namespace {

// How the target held still: a non-live dump holds every thread in a
// ptrace stop; a live one says what it saw.
uint32_t task_state(uint32_t quiescence, HoldMode mode) {
  if (mode == HoldMode::kStopped) return CKPT_TASK_STOPPED;
  switch (quiescence) {
    case CKPT_QUIESCENT_STOPPED:
      return CKPT_TASK_STOPPED;
    case CKPT_QUIESCENT_FROZEN:
      return CKPT_TASK_FROZEN;
    default:
      return CKPT_TASK_RUNNING;
  }
}

Status check_interrupted() {
  if (ckpt_signal_pending()) return error(kEINTR);
  ckpt_cond_resched();
  return kOk;
}

}  // namespace

Status Checkpoint::run(TaskRef task, MmRef mm) {
  task_ = move(task);
  mm_ = move(mm);

  const HoldMode mode = live() ? HoldMode::kLive : HoldMode::kStopped;
  CKPT_TRY_ASSIGN(const TargetHold hold, TargetHold::take(task_.get(), mm_.get(), mode));

  writer_.use_checksum(checksum());
  CKPT_TRY(write_head());
  CKPT_TRY(write_task(hold.info(), mode));
  // Before the page batches are allocated: the two never coexist.
  CKPT_TRY(write_process(writer_, task_.get(), mm_.get(), meter_));
  uint32_t threads = 0;
  CKPT_TRY(write_threads(writer_, task_.get(), meter_, &threads));
  if (!threads) return error(kESRCH);  // every thread exited
  CKPT_TRY(write_files(writer_, task_.get(), meter_));
  CKPT_TRY(write_vdso(writer_, mm_.get(), meter_));
  CKPT_TRY_ASSIGN(name_, KBuffer::allocate(meter_, kPageSize));
  CKPT_TRY(copier_.init(meter_));
  for (PageBatch& batch : batches_) CKPT_TRY(batch.init(meter_));
  CKPT_TRY(write_mm());
  CKPT_TRY(write_vmas());
  CKPT_TRY(write_mm_context(writer_, mm_.get(), meter_));

  // Without a tail the image is incomplete, which every reader sees: a
  // target that ran while it was read is not one moment's snapshot.
  if (mode == HoldMode::kStopped) CKPT_TRY(hold.confirm());
  return writer_.write_tail();
}

void Checkpoint::report() const {
  args_.bytes = writer_.written();
  args_.nr_vmas = writer_.nr_vmas();
  args_.nr_pages = writer_.nr_pages();
  args_.pages_scanned = pages_scanned_;
  args_.peak_kmem = meter_.peak();
  args_.vma_ns = vma_ns_;
  args_.scan_ns = scan_ns_;
  args_.copy_ns = copy_ns_;
  args_.write_ns = write_ns_;
}

Status Checkpoint::write_head() {
  ckpt_head head{};
  __builtin_memcpy(head.magic, CKPT_IMAGE_MAGIC, sizeof(head.magic));
  head.major = CKPT_FORMAT_MAJOR;
  head.minor = CKPT_FORMAT_MINOR;
  head.arch = CKPT_ARCH_X86_64;
  head.page_size = kPageSize;
  head.flags = live() ? CKPT_IMAGE_LIVE : 0;
  head.time_ns = ckpt_time_ns();
  head.checksum = static_cast<uint8_t>(checksum());
  ckpt_kernel_release(head.release, sizeof(head.release));
  return writer_.write(CKPT_REC_HEAD, &head, sizeof(head));
}

Status Checkpoint::write_task(const ckpt_task_info& info, HoldMode mode) {
  ckpt_task task{};
  task.pid = info.pid;
  task.tid = info.tid;
  task.nr_threads = info.nr_threads;
  task.state = task_state(info.quiescence, mode);
  __builtin_memcpy(task.comm, info.comm, sizeof(task.comm));
  task.comm[sizeof(task.comm) - 1] = '\0';
  return writer_.write(CKPT_REC_TASK, &task, sizeof(task));
}

Status Checkpoint::write_mm() {
  ckpt_mm mm{};
  {
    MmapReadGuard lock(mm_.get());
    CKPT_TRY(lock.lock());
    ckpt_mm_describe(mm_.get(), &mm);
  }
  return writer_.write(CKPT_REC_MM, &mm, sizeof(mm));
}

// VMAs are found one at a time by address, each under a short hold of the
// lock, so a dump never keeps a list that grows with the target's map count.
Status Checkpoint::write_vmas() {
  uint64_t addr = 0;
  for (;;) {
    Vma vma;
    {
      PhaseTimer timer(&vma_ns_);
      CKPT_TRY_ASSIGN(bool found, next_vma(addr, &vma));
      if (!found) return kOk;
      CKPT_TRY(write_vma_record(vma));
    }
    if (scans_pages(vma.kind)) CKPT_TRY(write_vma_pages(vma));
    addr = vma.info.end;
    CKPT_TRY(check_interrupted());
  }
}

Result<bool> Checkpoint::next_vma(uint64_t addr, Vma* vma) {
  ckpt_file_ref* file = nullptr;
  int ret;
  {
    MmapReadGuard lock(mm_.get());
    CKPT_TRY(lock.lock());
    ret = ckpt_mm_find_vma(mm_.get(), addr, &vma->info, &file);
  }
  if (ret == -kENOENT) return false;
  CKPT_TRY(Status::from_return(ret));
  vma->file.reset(file);
  // A live target may have moved a mapping down over ground already dumped:
  // the record starts where the dump is, at the file offset mapped there.
  if (vma->info.start < addr) {
    vma->info.pgoff += (addr - vma->info.start) / kPageSize;
    vma->info.start = addr;
  }
  vma->kind = classify_vma(vma->info.traits);
  if (vma->info.traits & CKPT_VMA_T_HUGETLB) {
    ckpt_warn_vma("hugetlb mappings are not supported", vma->info.start, vma->info.end, -kEOPNOTSUPP);
    return fail_at(*vma, error(kEOPNOTSUPP));
  }
  return true;
}

Status Checkpoint::fail_at(const Vma& vma, Status status) {
  args_.err_addr = vma.info.start;
  return status;
}

Status Checkpoint::write_vma_record(const Vma& vma) {
  ckpt_vma record{};
  record.start = vma.info.start;
  record.end = vma.info.end;
  record.page_prot = vma.info.page_prot;
  record.vm_flags = vma.info.vm_flags;
  record.pgoff = vma.info.pgoff;
  record.kind = static_cast<uint32_t>(vma.kind);
  record.ino = vma.info.ino;
  record.dev = vma.info.dev;
  if (reads_page_cache(vma.kind, vma.info.traits)) record.vm_flags |= CKPT_VMA_F_SHMEM;

  char* name = reinterpret_cast<char*>(name_.data());
  size_t name_len = 0;
  if (vma.file) {
    // A path d_path() cannot fit in PATH_MAX is flagged, not fatal: the
    // pages are the user's data whatever the file is called.
    const int len = ckpt_file_path(vma.file.get(), name, name_.size());
    if (len == -kENAMETOOLONG)
      record.vm_flags |= CKPT_VMA_F_NAME_TOO_LONG;
    else if (len < 0)
      return fail_at(vma, Status::from_return(len));
    else
      name_len = size_t(len) + 1;
  } else if (vma.info.name[0]) {
    name_len = __builtin_strlen(vma.info.name) + 1;
    __builtin_memcpy(name, vma.info.name, name_len);
  }
  record.name_len = static_cast<uint32_t>(name_len);

  const Chunk chunks[] = {{&record, sizeof(record)}, {name, name_len}};
  CKPT_TRY(writer_.write(CKPT_REC_VMA, chunks, 2));
  writer_.count_vma();
  return kOk;
}

// Gathers the next batch of `vma` into the scanner's chain, holding the lock
// only for that.  What was found of the VMA under an earlier hold is checked
// again first, and only what this hold has checked is walked: between two
// holds a mapping can be unmapped or replaced, and its page tables freed.
// A live dump ends that VMA's pages where its mapping changed; a stopped
// target cannot change its mappings, so a change there is EBUSY.
Status Checkpoint::fill(const Vma& vma, PageScanner& scanner, uint32_t limit, uint64_t* cursor) {
  PhaseTimer timer(&scan_ns_);
  {
    MmapReadGuard lock(mm_.get());
    CKPT_TRY(lock.lock());
    __u64 end;
    const int ret = ckpt_mm_vma_check(mm_.get(), &vma.info, vma.file.get(), *cursor, &end);
    if (ret == -kEBUSY && live()) {
      *cursor = vma.info.end;
      return kOk;
    }
    if (ret) return fail_at(vma, Status::from_return(ret));
    VmaRange range{vma.info.start, end, vma.kind};
    if (reads_page_cache(vma.kind, vma.info.traits)) {
      range.shmem = vma.file.get();
      range.pgoff = vma.info.pgoff;
    }
    auto filled = scanner.fill(range, *cursor, limit);
    if (!filled.ok()) {
      if (filled.status().error() != -kEHWPOISON) return fail_at(vma, filled.status());
      args_.err_addr = scanner.poisoned_page();  // the page itself, not its VMA
      return filled.status();
    }
    *cursor = filled.value();
  }
  return wait_for_migration(vma, scanner);
}

// A page under migration (NUMA balancing, compaction, migrate_pages(2))
// is replaced within moments: wait with the lock dropped, then retry it.
Status Checkpoint::wait_for_migration(const Vma& vma, const PageScanner& scanner) {
  if (!scanner.migration_wait()) {
    migration_waits_ = 0;
    return kOk;
  }
  if (++migration_waits_ > kMigrationWaitTicks) {
    ckpt_warn_vma("page under migration for too long", vma.info.start, vma.info.end, -kEIO);
    return fail_at(vma, error(kEIO));
  }
  ckpt_sleep_tick();
  return kOk;
}

// Scan and write one VMA in batches (page_copy.h): the lock is held only
// while a batch is gathered, its page references only until its pages are
// copied, and batch N+1 is copied on a worker while batch N is written.
Status Checkpoint::write_vma_pages(const Vma& vma) {
  PageBatch* filling = &batches_[0];
  PageBatch* pending = nullptr;  // being copied on the worker
  PageScanner scanner(mm_.get(), filling->chain, &pages_scanned_);

  // Whatever happens, the worker is done with a batch before its
  // references are dropped.
  struct ReleaseOnExit {
    PageCopier& copier;
    PageBatch* batches;
    ~ReleaseOnExit() {
      copier.wait();
      batches[0].chain.release();
      batches[1].chain.release();
    }
  } release{copier_, batches_};

  uint64_t cursor = vma.info.start;
  while (cursor < vma.info.end || pending) {
    if (cursor < vma.info.end) {
      scanner.use_chain(filling->chain);
      CKPT_TRY(fill(vma, scanner, PageBatch::kMaxPages, &cursor));
    }
    // The batch to write now: the one the worker has just copied.
    PageBatch* const ready = pending;
    if (ready) CKPT_TRY(wait_copied(*ready));
    pending = nullptr;
    // Hand the worker the batch just gathered, planned where it will land:
    // after the one about to be written.
    if (!filling->chain.empty()) {
      const uint64_t at = writer_.offset() + (ready ? ready->plan.bytes() : 0);
      filling->crc = writer_.record_checksum();
      filling->plan = RecordWriter::plan_pages(filling->chain, at, &filling->crc);
      PhaseTimer timer(&copy_ns_);
      copier_.start(*filling);
      pending = filling;
      filling = filling == &batches_[0] ? &batches_[1] : &batches_[0];
    }
    if (ready) {
      PhaseTimer timer(&write_ns_);
      CKPT_TRY(writer_.write_copied_pages(ready->chain, ready->plan, ready->crc.value(),
                                          ready->contents.data()));
      ready->chain.release();
    }
    CKPT_TRY(check_interrupted());
  }
  return kOk;
}

// A page whose memory is lost fails the dump with its own address.
Status Checkpoint::wait_copied(PageBatch& batch) {
  {
    PhaseTimer timer(&copy_ns_);
    copier_.wait();
  }
  if (batch.copied.ok()) return kOk;
  if (batch.copied.error() == -kEHWPOISON) {
    ckpt_warn_vma("memory error while copying a page", batch.lost, batch.lost + kPageSize, -kEHWPOISON);
    args_.err_addr = batch.lost;
  }
  return batch.copied;
}

Status checkpoint_into(ckpt_checkpoint_args& args, ckpt_file_ref* out) {
  CKPT_TRY_ASSIGN(TaskRef task, get_task(args.pid));
  CKPT_TRY_ASSIGN(MmRef mm, get_mm(task));
  AllocChecker ac;
  auto* checkpoint = new (&ac) Checkpoint(args, out);
  if (!ac.check()) return error(kENOMEM);
  const Status status = checkpoint->run(move(task), move(mm));
  checkpoint->report();
  delete checkpoint;
  return status;
}

}  // namespace ckpt

// Module load, for src/bridge/device.c: choose how to checksum.
extern "C" void ckpt_core_init(ckpt_core_info* info) {
  const auto choice = ckpt::RecordChecksum::choose_default(info->checksum, ckpt_cpu_has_crc32c());
  info->checksum = choice.algorithm;
  info->crc_instruction = choice.crc.hardware;
  info->crc_sample_bytes = choice.crc.sample_bytes;
  info->crc_instruction_ns = choice.crc.hardware_ns;
  info->crc_table_ns = choice.crc.software_ns;
  info->xxh64_ns = choice.xxh64_ns;
}

// The ioctl's work, for src/bridge/device.c: validated arguments in, the
// counters out, 0 or a negative errno back.
extern "C" int ckpt_checkpoint(ckpt_checkpoint_args* args) {
  auto out = ckpt::get_output_file(args->fd);
  if (!out.ok()) return out.status().error();
  return ckpt::checkpoint_into(*args, out.value().get()).error();
}
