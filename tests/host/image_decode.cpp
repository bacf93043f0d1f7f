// SPDX-License-Identifier: GPL-2.0
#include "image_decode.h"

#include "byte_source.h"
#include "image_reader.h"

namespace host_test {
namespace {

class Collector final : public ckpt::ImageVisitor {
 public:
  explicit Collector(DecodedImage& image) : image_(image) {}

  void on_head(const ckpt_head& head) override { image_.head = head; }
  void on_task(const ckpt_task& task) override { image_.task = task; }
  void on_process(const ckpt::ProcessRecord& r) override {
    image_.processes++;
    image_.process = r.process;
    image_.auxv = r.auxv;
    image_.groups = r.groups;
    image_.exe = r.exe;
    image_.cwd = r.cwd;
    image_.root = r.root;
  }
  void on_thread(const ckpt::ThreadRecord& r) override { image_.threads.push_back({r.thread, r.xstate, {}, {}}); }
  void on_restart(const ckpt_restart& r) override { image_.threads.back().restart = r; }
  void on_sigqueue(const ckpt::SigQueueRecord& q) override {
    const host_test::DecodedSigQueue decoded{q.queue, q.infos};
    if (q.queue.tid)
      image_.threads.back().sigqueue = decoded;
    else
      image_.sigqueue = decoded;
  }
  void on_file(const ckpt::FileRecord& r) override { image_.files.push_back({r.file, r.path}); }
  void on_vdso(const ckpt::VdsoRecord& r) override {
    image_.vdso_start = r.vdso.start;
    image_.vdso = r.bytes;
  }
  void on_mm(const ckpt_mm& mm) override { image_.mm = mm; }
  void on_vma(const ckpt::VmaRecord& record) override { image_.vmas.push_back({record.vma, record.name, {}, {}}); }
  void on_pages(const ckpt::PagesRecord& record) override { image_.vmas.back().pages_records.push_back(record.pages.nr); }
  void on_page(uint64_t addr, const uint8_t* data, size_t page_size) override {
    image_.vmas.back().pages.push_back({addr, std::vector<uint8_t>(data, data + page_size)});
  }
  void on_ldt(const ckpt::LdtRecord& record) override { image_.ldt = record.entries; }
  void on_tail(const ckpt_tail& tail) override { image_.tail = tail; }

 private:
  DecodedImage& image_;
};

}  // namespace

uint64_t DecodedImage::nr_pages() const {
  uint64_t pages = 0;
  for (const DecodedVma& vma : vmas) pages += vma.pages.size();
  return pages;
}

DecodedImage decode_image(const uint8_t* data, size_t size) {
  DecodedImage image;
  ckpt::MemorySource source(data, size);
  ckpt::ImageReader reader(source);
  Collector collector(image);
  auto summary = reader.read(collector);
  if (!summary) {
    image.error = summary.error().message;
    return image;
  }
  image.ok = true;
  image.records = summary->records;
  image.bytes = summary->bytes;
  return image;
}

}  // namespace host_test
