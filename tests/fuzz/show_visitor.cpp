// SPDX-License-Identifier: GPL-2.0
#include "show_visitor.h"

#include <cstdio>
#include <cstdlib>

#include "format_util.h"
#include "image_format.h"
#include "record_checksum.h"

namespace ckpt_fuzz {
namespace {

[[noreturn]] void broken(const char* rule) {
  std::fprintf(stderr, "image_reader_fuzzer: the reader accepted an image that breaks a rule: %s\n", rule);
  std::abort();
}

void require(bool ok, const char* rule) {
  if (!ok) broken(rule);
}

}  // namespace

void ShowVisitor::on_head(const ckpt_head& head) {
  heads_++;
  page_size_ = head.page_size;
  note(ckpt::arch_name(head.arch) + ckpt::utc_time_string(head.time_ns) +
       ckpt::fixed_cstring(head.release, sizeof(head.release)) + std::to_string(head.major) + "." +
       std::to_string(head.minor) + ckpt::hex(head.flags) + ckpt::checksum_name(ckpt::image_checksum(head)));
}

void ShowVisitor::on_task(const ckpt_task& task) {
  tasks_++;
  note(ckpt::task_state_name(task.state) + ckpt::fixed_cstring(task.comm, sizeof(task.comm)) +
       std::to_string(task.pid) + std::to_string(task.tid) + std::to_string(task.nr_threads));
}

void ShowVisitor::on_process(const ckpt::ProcessRecord& record) {
  processes_++;
  note(std::to_string(record.process.pid) + record.exe + record.cwd + record.root +
       std::to_string(record.auxv.size()) + std::to_string(record.groups.size()));
}

void ShowVisitor::on_file(const ckpt::FileRecord& record) {
  files_++;
  note(std::to_string(record.file.fd) + ckpt::file_kind_name(record.file.kind) + record.path);
}

void ShowVisitor::on_thread(const ckpt::ThreadRecord& record) {
  require(tasks_ == 1 && mms_ == 0, "THREAD records between TASK and MM");
  require(record.xstate.size() == record.thread.xstate_size, "the FPU area as long as xstate_size says");
  require(record.thread.tid > 0, "positive tids");
  threads_++;
  note(std::to_string(record.thread.tid) + ckpt::hex(record.thread.regs[16]) + ckpt::hex(record.thread.xfeatures));
}

void ShowVisitor::on_mm(const ckpt_mm& mm) {
  mms_++;
  note(ckpt::hex(mm.start_code) + ckpt::hex(mm.end_code) + ckpt::hex(mm.start_brk) + ckpt::hex(mm.brk) +
       ckpt::hex(mm.start_stack) + ckpt::human_bytes(mm.brk - mm.start_brk) + std::to_string(mm.map_count));
}

void ShowVisitor::on_vma(const ckpt::VmaRecord& record) {
  const ckpt_vma& vma = record.vma;
  require(vma.start < vma.end, "VMA start < end");
  require(vma.start % page_size_ == 0 && vma.end % page_size_ == 0, "VMA bounds page-aligned");
  require(vmas_ == 0 || vma.start >= last_vma_end_, "VMAs ascending, never overlapping");
  require(record.name.size() + (vma.name_len ? 1 : 0) == vma.name_len, "name_len matches the name");
  vmas_++;
  in_vma_ = true;
  vma_ = vma;
  have_page_ = false;
  last_vma_end_ = vma.end;
  note(ckpt::hex(vma.start) + "-" + ckpt::hex(vma.end) + " " + ckpt::perms_string(vma.vm_flags) + " " +
       ckpt::dev_string(vma.dev) + " " + std::to_string(vma.ino) + " " + ckpt::vma_kind_name(vma.kind) + " " +
       record.name + ckpt::human_bytes(vma.end - vma.start));
}

void ShowVisitor::on_pages(const ckpt::PagesRecord& record) {
  require(in_vma_, "PAGES follow a VMA record");
  require(vma_.kind != CKPT_VMA_SPECIAL, "no PAGES for a special VMA");
  require(record.pages.nr >= 1 && record.pages.nr <= CKPT_PAGES_MAX, "1..2048 pages per record");
  require(record.addrs.size() == record.pages.nr, "one address per page");
  require((record.offset + sizeof(ckpt_rec_hdr) + record.pages.data_off) % page_size_ == 0,
          "page contents page-aligned in the stream");
  pages_records_++;
  pages_announced_ += record.pages.nr;
}

// The reader checks a PAGES record's structure before it streams its pages.
void ShowVisitor::on_page(uint64_t addr, const uint8_t* data, size_t page_size) {
  require(page_size == page_size_, "pages of the HEAD's page size");
  require(addr % page_size_ == 0, "page addresses page-aligned");
  require(addr >= vma_.start && addr < vma_.end, "pages inside their VMA");
  require(!have_page_ || addr > last_page_, "pages ascending within a VMA");
  have_page_ = true;
  last_page_ = addr;
  pages_++;
  uint64_t sum = 0;
  for (size_t i = 0; i < page_size; i += 64) sum += data[i];
  text_bytes_ += sum & 1;
}

void ShowVisitor::on_ldt(const ckpt::LdtRecord& record) {
  require(record.ldt.entry_size == 8 && record.entries.size() == record.ldt.nr, "LDT entries as counted");
  ldts_++;
  in_vma_ = false;
  for (uint64_t entry : record.entries) note(ckpt::hex(entry));
}

void ShowVisitor::on_unknown(uint32_t type, uint64_t offset, uint64_t len) {
  unknown_++;
  note(ckpt::record_type_name(type) + std::to_string(offset) + std::to_string(len));
}

void ShowVisitor::on_tail(const ckpt_tail& tail) {
  tails_++;
  tail_ = tail;
  note(std::to_string(tail.nr_records) + ckpt::human_bytes(tail.bytes));
}

void ShowVisitor::check_accepted(const ckpt::ImageSummary& summary, size_t input_size) const {
  require(heads_ == 1 && tasks_ == 1 && mms_ == 1 && tails_ == 1, "one HEAD, TASK, MM and TAIL");
  require(ldts_ <= 1, "at most one LDT");
  require(summary.head.arch != CKPT_ARCH_X86_64 || ldts_ == 1, "x86-64 images have an LDT record");
  require(summary.bytes == input_size, "nothing follows the TAIL");
  require(ckpt::is_known_checksum(ckpt::image_checksum(summary.head)), "a known checksum algorithm");
  require(summary.bytes >= tail_.bytes + sizeof(ckpt_rec_hdr) + sizeof(ckpt_tail), "the TAIL ends the stream");
  require(summary.records == heads_ + tasks_ + processes_ + threads_ + files_ + mms_ + vmas_ + pages_records_ +
                                 ldts_ + unknown_ + tails_,
          "every record counted once");
  require(summary.processes == processes_ && summary.files == files_, "PROCESS and FILE totals agree");
  require(summary.head.minor == 0 ? processes_ == 0 && files_ == 0 : processes_ == 1,
          "a 1.1 image has one PROCESS record, a 1.0 image none");
  require(summary.threads == threads_, "THREAD totals agree");
  require(summary.head.minor == 0 || threads_ >= 1, "a 1.1 image names its threads");
  require(tail_.nr_records + 1 == summary.records, "TAIL counts the records before it");
  require(summary.vmas == vmas_ && tail_.nr_vmas == vmas_, "VMA totals agree");
  require(summary.pages == pages_ && tail_.nr_pages == pages_ && pages_announced_ == pages_, "page totals agree");
}

}  // namespace ckpt_fuzz
