// SPDX-License-Identifier: GPL-2.0
//
// CKPT_IOC_RESTORE: the memory half of the seed series' restart
// (cr_read_mm()).  The caller, a fresh restorer, has read the image up to
// its MM record; this reads the rest, MM, VMA, PAGES, LDT and TAIL, checks
// every field before it is used, maps each VMA into the caller at its
// address and writes its pages there, a bounded batch at a time.
#include <linux/ckpt.h>

#include "checksum.h"
#include "crc32c.h"
#include "kbuffer.h"
#include "kernel_refs.h"
#include "ldt_descriptor.h"
#include "restore.h"
#include "shared_objects.h"

namespace ckpt {
namespace {

constexpr uint32_t kBatchPages = 16;  // 64 KiB of page data per read
constexpr uint32_t kMaxName = 4096;
constexpr uint64_t kMaxUnknownLen = 1 << 20;
constexpr int kEBADMSG = 74;

uint64_t round_up8(uint64_t n) { return (n + 7) & ~uint64_t(7); }

class Restore {
 public:
  Restore(ckpt_restore_args* args, FileRef in, KBuffer buf, KBuffer addrs, MemMeter& meter)
      : args_(args),
        in_(move(in)),
        buf_(move(buf)),
        addrs_(move(addrs)),
        offset_(args->bytes),
        records_(args->nr_records),
        chain_(Crc32c::resume(args->chain_crc)),
        limit_(ckpt_restore_user_limit()),
        objects_(meter) {}

  Status run();

 private:
  struct Vma {
    ckpt_vma rec{};
    bool have = false;
    bool takes_pages = false;   // PAGES records may follow
    bool writes_pages = false;  // and are written into the mapping
    ckpt_file_ref* object = nullptr;  // or into this rebuilt object (objects_ holds it)
    uint64_t last_page = 0;     // address after the last page checked
  };

  Status read(void* dst, uint64_t len);
  Status read_header(ckpt_rec_hdr* hdr);
  Status read_payload(void* dst, uint64_t len, RecordChecksum* crc);
  RecordChecksum header_crc(const ckpt_rec_hdr& hdr) const;
  Status finish_record(const ckpt_rec_hdr& hdr, const RecordChecksum& crc);
  Status on_vma(const ckpt_rec_hdr& hdr);
  Status on_pages(const ckpt_rec_hdr& hdr);
  static uint32_t prot_of(const ckpt_vma& v);
  Status map(char* name);
  Status map_shared_file(char* name);
  Status map_shared_object(char* name);
  Status write_pages(uint64_t addr, const uint8_t* data, uint32_t nr);
  Status report_advice();
  Status skip(const ckpt_rec_hdr& hdr);
  Status on_ldt(const ckpt_rec_hdr& hdr);
  Status on_tail(const ckpt_rec_hdr& hdr);
  Status bad() const { return error(kEBADMSG); }
  Status fail_at(uint64_t addr, Status st) {
    args_->err_addr = addr;
    return st;
  }

  ckpt_restore_args* args_;
  FileRef in_;
  KBuffer buf_;    // page data, a name, skipped payloads
  KBuffer addrs_;  // a PAGES record's addresses and padding
  uint64_t offset_;
  uint64_t records_;
  Crc32c chain_;
  uint64_t limit_;
  ckpt_mm mm_{};
  Vma vma_;
  uint64_t prev_end_ = 0;
  bool have_ldt_ = false;
  SharedObjects objects_;
};

Status Restore::read(void* dst, uint64_t len) {
  const long got = ckpt_file_read(in_.get(), dst, len);
  CKPT_TRY(Status::from_return(got));
  if (uint64_t(got) != len) return bad();  // truncated
  offset_ += len;
  return kOk;
}

Status Restore::read_header(ckpt_rec_hdr* hdr) {
  if (offset_ % 8) return bad();
  CKPT_TRY(read(hdr, sizeof(*hdr)));
  if (hdr->flags || hdr->reserved) return bad();
  return kOk;
}

Status Restore::read_payload(void* dst, uint64_t len, RecordChecksum* crc) {
  CKPT_TRY(read(dst, len));
  crc->update(dst, len);
  return kOk;
}

// The padding, the record's checksum, and its link in TAIL's chain.
Status Restore::finish_record(const ckpt_rec_hdr& hdr, const RecordChecksum& crc) {
  const uint64_t pad = round_up8(hdr.len) - hdr.len;
  uint8_t zeros[8];
  if (pad) {
    CKPT_TRY(read(zeros, pad));
    for (uint64_t i = 0; i < pad; i++)
      if (zeros[i]) return bad();
  }
  if (crc.value() != hdr.crc) return bad();
  const uint8_t le[4] = {uint8_t(hdr.crc), uint8_t(hdr.crc >> 8), uint8_t(hdr.crc >> 16), uint8_t(hdr.crc >> 24)};
  chain_.update(le, sizeof(le));
  records_++;
  return kOk;
}

// Every record restore reads comes after HEAD: HEAD's algorithm.
RecordChecksum Restore::header_crc(const ckpt_rec_hdr& hdr) const {
  RecordChecksum crc(args_->checksum);
  crc.update(&hdr, 16);
  return crc;
}

uint32_t Restore::prot_of(const ckpt_vma& v) {
  uint32_t prot = 0;
  if (v.vm_flags & CKPT_VMA_F_READ) prot |= 0x1;   // PROT_READ
  if (v.vm_flags & CKPT_VMA_F_WRITE) prot |= 0x2;  // PROT_WRITE
  if (v.vm_flags & CKPT_VMA_F_EXEC) prot |= 0x4;   // PROT_EXEC
  return prot;
}

// The mapping a VMA record describes, placed where it was.
Status Restore::map(char* name) {
  const ckpt_vma& v = vma_.rec;
  const uint32_t prot = prot_of(v);
  const bool growsdown = v.vm_flags & CKPT_VMA_F_GROWSDOWN;
  const bool noreserve = v.vm_flags & CKPT_VMA_F_NORESERVE;
  vma_.takes_pages = true;
  vma_.writes_pages = true;
  vma_.object = nullptr;
  switch (v.kind) {
    case CKPT_VMA_ANON:
      return Status::from_return(ckpt_restore_map(v.start, v.end, prot, 0, growsdown, noreserve, nullptr, 0));
    case CKPT_VMA_FILE: {
      if (!name[0] || (v.vm_flags & CKPT_VMA_F_NAME_TOO_LONG)) return error(kEOPNOTSUPP);
      ckpt_file_ref* ref = nullptr;
      const uint64_t need = v.pgoff * kPageSize;  // the pages mapped may lie past EOF
      CKPT_TRY(Status::from_return(ckpt_restore_open(name, v.ino, v.dev, need, 0, &ref)));
      const FileRef file(ref);
      return Status::from_return(ckpt_restore_map(v.start, v.end, prot, 0, growsdown, noreserve, file.get(), v.pgoff));
    }
    case CKPT_VMA_SHARED:
      if (__builtin_strcmp(name, "/dev/zero (deleted)") == 0)
        return Status::from_return(ckpt_restore_map(v.start, v.end, prot, 1, 0, noreserve, nullptr, 0));
      return map_shared_file(name);
    case CKPT_VMA_SPECIAL:
      // The restorer moves its own [vdso] and [vvar] here.
      vma_.takes_pages = false;
      if (__builtin_strcmp(name, "[vdso]") == 0) {
        args_->vdso[0] = v.start;
        args_->vdso[1] = v.end;
        return kOk;
      }
      if (__builtin_strcmp(name, "[vvar]") == 0) {
        args_->vvar[0] = v.start;
        args_->vvar[1] = v.end;
        return kOk;
      }
      return error(kEOPNOTSUPP);
    default:
      return bad();
  }
}

// A shared mapping of a file reopened by its path (a regular file, or one
// on tmpfs such as /dev/shm): the file holds the data, as it does for the
// other processes that map it, so the image's copies of its pages are
// checked and not written back.  Deleted files have no path to reopen:
// shared memory (a memfd, SysV shm) is rebuilt from the image; any other
// deleted file is refused (the image holds only the pages it mapped).
Status Restore::map_shared_file(char* name) {
  const ckpt_vma& v = vma_.rec;
  if (!name[0] || name[0] != '/' || (v.vm_flags & CKPT_VMA_F_NAME_TOO_LONG)) return error(kEOPNOTSUPP);
  const uint64_t len = __builtin_strlen(name);
  static const char kDeleted[] = " (deleted)";
  if (len >= sizeof(kDeleted) - 1 && __builtin_strcmp(name + len - (sizeof(kDeleted) - 1), kDeleted) == 0)
    return map_shared_object(name);
  ckpt_file_ref* ref = nullptr;
  const uint64_t need = v.pgoff * kPageSize;
  const int writable = (v.vm_flags & CKPT_VMA_F_MAYWRITE) != 0;
  CKPT_TRY(Status::from_return(ckpt_restore_open(name, v.ino, v.dev, need, writable, &ref)));
  const FileRef file(ref);
  vma_.writes_pages = false;
  return Status::from_return(ckpt_restore_map(v.start, v.end, prot_of(v), 1, 0, 0, file.get(), v.pgoff));
}

// `name` is "/NAME (deleted)": the new object is called NAME, so that the
// restored mapping reads the same in /proc/PID/maps.
Status Restore::map_shared_object(char* name) {
  const ckpt_vma& v = vma_.rec;
  if (!(v.vm_flags & CKPT_VMA_F_SHMEM)) return error(kEOPNOTSUPP);
  if (v.pgoff > (uint64_t(1) << 50)) return bad();  // past any shmem size
  name[__builtin_strlen(name) - (sizeof(" (deleted)") - 1)] = '\0';
  const uint64_t size = (v.pgoff + (v.end - v.start) / kPageSize) * kPageSize;
  CKPT_TRY_ASSIGN(ckpt_file_ref * object, objects_.get(v.dev, v.ino, name + 1, size));
  vma_.object = object;
  const bool noreserve = v.vm_flags & CKPT_VMA_F_NORESERVE;
  return Status::from_return(ckpt_restore_map(v.start, v.end, prot_of(v), 1, 0, noreserve, object, v.pgoff));
}

// Runs of consecutive pages into the mapping, or into the rebuilt object
// at their offset (a read-only shared mapping cannot be written through).
Status Restore::write_pages(uint64_t addr, const uint8_t* data, uint32_t nr) {
  const uint64_t len = uint64_t(nr) * kPageSize;
  if (!vma_.object) return Status::from_return(ckpt_restore_write(addr, data, len));
  const uint64_t pos = (vma_.rec.pgoff + (addr - vma_.rec.start) / kPageSize) * kPageSize;
  return Status::from_return(ckpt_restore_file_write(vma_.object, data, len, pos));
}

// What only madvise(2) and mlock(2) set, for the restorer to apply: a
// module cannot (do_madvise() is not exported, and setting vm_flags needs
// the per-VMA lock's writer side, which is not either).
Status Restore::report_advice() {
  const ckpt_vma& v = vma_.rec;
  const uint64_t flags = v.vm_flags & CKPT_VMA_F_ADVICE;
  if (!flags || !args_->advice) return kOk;
  if (args_->nr_advice >= args_->max_advice) return error(kE2BIG);
  const ckpt_restore_advice advice = {v.start, v.end, flags};
  CKPT_TRY(Status::from_return(ckpt_restore_put_advice(args_->advice, args_->nr_advice, &advice)));
  args_->nr_advice++;
  return kOk;
}

Status Restore::on_vma(const ckpt_rec_hdr& hdr) {
  if (hdr.len < sizeof(ckpt_vma) || hdr.len > sizeof(ckpt_vma) + kMaxName) return bad();
  RecordChecksum crc = header_crc(hdr);
  ckpt_vma& v = vma_.rec;
  CKPT_TRY(read_payload(&v, sizeof(v), &crc));
  char* name = reinterpret_cast<char*>(buf_.data());
  const uint64_t name_len = hdr.len - sizeof(v);
  if (name_len != v.name_len) return bad();
  if (name_len) {
    CKPT_TRY(read_payload(name, name_len, &crc));
    if (name[name_len - 1] || __builtin_strlen(name) != name_len - 1) return bad();
  } else {
    name[0] = '\0';
  }
  CKPT_TRY(finish_record(hdr, crc));
  if (have_ldt_) return bad();
  if (v.start % kPageSize || v.end % kPageSize || v.start >= v.end || v.end > limit_ || v.start < prev_end_)
    return fail_at(v.start, bad());
  prev_end_ = v.end;
  vma_.have = true;
  vma_.last_page = v.start;
  args_->nr_vmas++;
  Status st = map(name);
  // [vdso] and [vvar] are not mapped yet: the restorer moves its own there.
  if (st.ok() && vma_.takes_pages) st = report_advice();
  return st.ok() ? kOk : fail_at(v.start, st);
}

Status Restore::on_pages(const ckpt_rec_hdr& hdr) {
  if (!vma_.have || !vma_.takes_pages || have_ldt_) return bad();
  const ckpt_vma& v = vma_.rec;
  RecordChecksum crc = header_crc(hdr);
  ckpt_pages pages{};
  if (hdr.len < sizeof(pages)) return bad();
  CKPT_TRY(read_payload(&pages, sizeof(pages), &crc));
  if (pages.nr < 1 || pages.nr > CKPT_PAGES_MAX || pages.reserved) return bad();
  if (pages.data_off < sizeof(pages) + 8 * uint64_t(pages.nr) || pages.data_off > sizeof(pages) + 8 * uint64_t(pages.nr) + kPageSize)
    return bad();
  if (hdr.len != pages.data_off + uint64_t(pages.nr) * kPageSize) return bad();
  // Addresses and padding: at most 16 KiB + a page, in addrs_.
  const uint64_t prefix = pages.data_off - sizeof(pages);
  CKPT_TRY(read_payload(addrs_.data(), prefix, &crc));
  if ((offset_ % kPageSize) != 0) return bad();
  for (uint64_t i = 8 * uint64_t(pages.nr); i < prefix; i++)
    if (addrs_.data()[i]) return bad();
  const uint64_t* list = reinterpret_cast<const uint64_t*>(addrs_.data());
  for (uint32_t i = 0; i < pages.nr; i++) {
    if (list[i] % kPageSize || list[i] < vma_.last_page || list[i] >= v.end) return fail_at(list[i], bad());
    vma_.last_page = list[i] + kPageSize;
  }
  for (uint32_t done = 0; done < pages.nr;) {
    const uint32_t n = pages.nr - done < kBatchPages ? pages.nr - done : kBatchPages;
    CKPT_TRY(read_payload(buf_.data(), uint64_t(n) * kPageSize, &crc));
    // Runs of consecutive addresses go in one write.
    for (uint32_t i = 0; i < n && vma_.writes_pages;) {
      uint32_t run = 1;
      while (i + run < n && list[done + i + run] == list[done + i] + uint64_t(run) * kPageSize) run++;
      const Status st = write_pages(list[done + i], buf_.data() + uint64_t(i) * kPageSize, run);
      if (!st.ok()) return fail_at(list[done + i], st);
      i += run;
    }
    done += n;
    args_->nr_pages += n;  // checked, if not written (TAIL counts them)
    if (ckpt_signal_pending()) return error(kEINTR);
    ckpt_cond_resched();
  }
  return finish_record(hdr, crc);
}

Status Restore::skip(const ckpt_rec_hdr& hdr) {
  if (hdr.len > kMaxUnknownLen) return bad();
  RecordChecksum crc = header_crc(hdr);
  for (uint64_t left = hdr.len; left;) {
    const uint64_t n = left < buf_.size() ? left : buf_.size();
    CKPT_TRY(read_payload(buf_.data(), n, &crc));
    left -= n;
  }
  return finish_record(hdr, crc);
}

// The LDT's descriptors, checked, for the caller to install with
// modify_ldt(2): write_ldt() is not exported.
Status Restore::on_ldt(const ckpt_rec_hdr& hdr) {
  constexpr uint32_t kMaxEntries = 8192;  // LDT_ENTRIES
  static_assert(kMaxEntries * 8 <= kBatchPages * kPageSize, "buf_ holds a whole LDT");
  if (have_ldt_ || hdr.len < sizeof(ckpt_ldt)) return bad();
  RecordChecksum crc = header_crc(hdr);
  ckpt_ldt ldt{};
  CKPT_TRY(read_payload(&ldt, sizeof(ldt), &crc));
  if (ldt.entry_size != 8 || ldt.nr > kMaxEntries || hdr.len != sizeof(ldt) + 8 * uint64_t(ldt.nr)) return bad();
  CKPT_TRY(read_payload(buf_.data(), 8 * uint64_t(ldt.nr), &crc));
  CKPT_TRY(finish_record(hdr, crc));
  have_ldt_ = true;
  if (!ldt.nr) return kOk;
  const uint64_t* entries = reinterpret_cast<const uint64_t*>(buf_.data());
  for (uint32_t i = 0; i < ldt.nr; i++)
    if (!ldt_descriptor_installable(entries[i])) return bad();
  if (!args_->ldt) return error(kEOPNOTSUPP);  // a caller that cannot install one
  if (ldt.nr > args_->max_ldt) return error(kE2BIG);
  CKPT_TRY(Status::from_return(ckpt_restore_put_ldt(args_->ldt, entries, ldt.nr)));
  args_->nr_ldt = ldt.nr;
  return kOk;
}

Status Restore::on_tail(const ckpt_rec_hdr& hdr) {
  if (hdr.len < sizeof(ckpt_tail) || hdr.len > kMaxUnknownLen) return bad();
  const uint64_t at = offset_ - sizeof(hdr);
  const uint32_t chain = chain_.value();
  RecordChecksum crc = header_crc(hdr);
  ckpt_tail tail{};
  CKPT_TRY(read_payload(&tail, sizeof(tail), &crc));
  for (uint64_t left = hdr.len - sizeof(tail); left;) {  // a later minor's fields
    const uint64_t n = left < buf_.size() ? left : buf_.size();
    CKPT_TRY(read_payload(buf_.data(), n, &crc));
    left -= n;
  }
  const uint64_t records = records_;
  CKPT_TRY(finish_record(hdr, crc));
  if (tail.nr_records != records || tail.bytes != at || tail.nr_vmas != args_->nr_vmas ||
      tail.nr_pages != args_->nr_pages || tail.crc != chain)
    return bad();
  return kOk;
}

Status Restore::run() {
  // The caller read MM's header: the payload is next.
  ckpt_rec_hdr hdr = args_->mm_hdr;
  offset_ += sizeof(hdr);
  if (hdr.flags || hdr.reserved) return bad();
  if (hdr.type != CKPT_REC_MM || hdr.len < sizeof(ckpt_mm) || hdr.len > kMaxUnknownLen) return bad();
  RecordChecksum crc = header_crc(hdr);
  CKPT_TRY(read_payload(&mm_, sizeof(mm_), &crc));
  for (uint64_t left = hdr.len - sizeof(mm_); left;) {
    const uint64_t n = left < buf_.size() ? left : buf_.size();
    CKPT_TRY(read_payload(buf_.data(), n, &crc));
    left -= n;
  }
  CKPT_TRY(finish_record(hdr, crc));
  const uint64_t bounds[] = {mm_.start_code, mm_.end_code, mm_.start_data, mm_.end_data,
                             mm_.start_brk,  mm_.brk,      mm_.start_stack, mm_.arg_start,
                             mm_.arg_end,    mm_.env_start, mm_.env_end};
  for (uint64_t b : bounds)
    if (b > limit_) return bad();
  if (mm_.start_brk > mm_.brk || mm_.arg_start > mm_.arg_end || mm_.env_start > mm_.env_end) return bad();

  for (;;) {
    CKPT_TRY(read_header(&hdr));
    switch (hdr.type) {
      case CKPT_REC_VMA:
        CKPT_TRY(on_vma(hdr));
        break;
      case CKPT_REC_PAGES:
        CKPT_TRY(on_pages(hdr));
        break;
      case CKPT_REC_LDT:
        CKPT_TRY(on_ldt(hdr));
        break;
      case CKPT_REC_TAIL:
        CKPT_TRY(on_tail(hdr));
        return Status::from_return(ckpt_restore_set_mm(&mm_));
      case CKPT_REC_HEAD:
      case CKPT_REC_TASK:
      case CKPT_REC_MM:
      case CKPT_REC_THREAD:
      case CKPT_REC_PROCESS:
      case CKPT_REC_FILE:
      case CKPT_REC_RESTART:
      case CKPT_REC_VDSO:
      case CKPT_REC_SIGQUEUE:
        return bad();  // out of order
      default:
        CKPT_TRY(skip(hdr));  // a later minor's record
        break;
    }
  }
}

}  // namespace

Status restore_from(ckpt_restore_args* args, FileRef in) {
  if (args->bytes % 8 || !RecordChecksum::known(args->checksum)) return error(kEINVAL);
  MemMeter meter;
  CKPT_TRY_ASSIGN(KBuffer buf, KBuffer::allocate(meter, kBatchPages * kPageSize));
  CKPT_TRY_ASSIGN(KBuffer addrs, KBuffer::allocate(meter, 8 * CKPT_PAGES_MAX + kPageSize));
  Restore restore(args, move(in), move(buf), move(addrs), meter);
  return restore.run();
}

}  // namespace ckpt

// The ioctl's work, for src/bridge/device.c: validated arguments in, the
// counters out, 0 or a negative errno back.
extern "C" int ckpt_restore(ckpt_restore_args* args) {
  ckpt_file_ref* ref = nullptr;
  const int ret = ckpt_file_get_input(args->fd, &ref);
  if (ret < 0) return ret;
  return ckpt::restore_from(args, ckpt::FileRef(ref)).error();
}
