// SPDX-License-Identifier: GPL-2.0
//
// What `ckpt show` does with each record, minus the printing: every field
// formatted with the CLI's helpers, every page touched.  It also keeps the
// facts an accepted image must satisfy, which check_accepted() asserts.
#pragma once

#include <cstdint>
#include <string>

#include "image_reader.h"

namespace ckpt_fuzz {

class ShowVisitor final : public ckpt::ImageVisitor {
 public:
  void on_head(const ckpt_head& head) override;
  void on_task(const ckpt_task& task) override;
  void on_process(const ckpt::ProcessRecord& record) override;
  void on_thread(const ckpt::ThreadRecord& record) override;
  void on_file(const ckpt::FileRecord& record) override;
  void on_mm(const ckpt_mm& mm) override;
  void on_vma(const ckpt::VmaRecord& record) override;
  void on_pages(const ckpt::PagesRecord& record) override;
  void on_page(uint64_t addr, const uint8_t* data, size_t page_size) override;
  void on_ldt(const ckpt::LdtRecord& record) override;
  void on_unknown(uint32_t type, uint64_t offset, uint64_t len) override;
  void on_tail(const ckpt_tail& tail) override;

  // For an image the reader accepted: aborts, naming the broken rule, if
  // the reader let through something Documentation/image-format.md forbids.
  void check_accepted(const ckpt::ImageSummary& summary, size_t input_size) const;

 private:
  void note(const std::string& text) { text_bytes_ += text.size(); }

  uint64_t text_bytes_ = 0;  // keeps the formatting from being optimized away
  uint32_t page_size_ = 0;
  uint64_t processes_ = 0, files_ = 0;
  uint64_t heads_ = 0, tasks_ = 0, threads_ = 0, mms_ = 0, vmas_ = 0, ldts_ = 0, tails_ = 0, unknown_ = 0;
  uint64_t pages_records_ = 0, pages_ = 0, pages_announced_ = 0;
  bool in_vma_ = false;
  ckpt_vma vma_{};
  bool have_page_ = false;
  uint64_t last_page_ = 0;
  uint64_t last_vma_end_ = 0;
  ckpt_tail tail_{};
};

}  // namespace ckpt_fuzz
