// SPDX-License-Identifier: GPL-2.0
//
// Writes small valid images into a directory: the fuzzer's seed corpus
// (scripts/fuzz.sh).  Dumps of fake targets through ckpt_checkpoint(), as
// the module writes them, plus two images of later minor versions that only
// the record writer can make (an unknown record type, a longer payload).
// Every image stays under the fuzzer's 64 KiB input limit.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>

#include "fake_bridge.h"
#include "kernel_refs.h"
#include "record_writer.h"
#include "targets.h"

namespace {

using fake::Pte;
using targets::kBase;
using targets::kPage;

bool save(const std::string& dir, const std::string& name, const std::vector<uint8_t>& bytes) {
  std::ofstream file(dir + "/" + name, std::ios::binary | std::ios::trunc);
  file.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  if (!file) {
    std::fprintf(stderr, "ckpt_corpus_generator: cannot write %s/%s\n", dir.c_str(), name.c_str());
    return false;
  }
  return true;
}

// Dumps the target `lay_out` builds in a fresh fake kernel.
bool dump(const std::string& dir, const std::string& name, uint32_t flags,
          const std::function<void(fake::Kernel&)>& lay_out) {
  fake::reset_kernel();
  fake::Kernel& kernel = fake::kernel();
  fake::File& out = kernel.open_output(3);
  lay_out(kernel);
  ckpt_checkpoint_args args{};
  args.size = sizeof(args);
  args.pid = 100;
  args.fd = 3;
  args.flags = flags;
  if (int ret = ckpt_checkpoint(&args)) {
    std::fprintf(stderr, "ckpt_corpus_generator: %s: dump failed: %s\n", name.c_str(), std::strerror(-ret));
    return false;
  }
  return save(dir, name, out.data);
}

void small_mix(fake::Kernel& kernel) {
  fake::Mm& mm = kernel.new_mm();
  kernel.add_task(100, &mm).nr_threads = 3;
  fake::File& lib = kernel.new_file("/usr/lib/libmix.so");
  fake::File& memfd = kernel.new_file("/memfd:mix (deleted)");
  mm.add_vma(targets::file_vma(0x400000, 4, &lib, 2));
  mm.fill(0x400000, 4, Pte::kFile);
  mm.set(0x401000, Pte::kAnon, 1);
  mm.add_vma(targets::anon_vma(kBase, 6));
  mm.set(kBase, Pte::kAnon, 2);
  mm.set(kBase + 3 * kPage, Pte::kSwapped, 3);
  mm.set(kBase + 4 * kPage, Pte::kZero);
  mm.add_vma(targets::shared_vma(kBase + 0x100000, 2, &memfd));
  mm.fill(kBase + 0x100000, 2, Pte::kFile, 4);
  mm.add_vma(targets::special_vma(0x7ffff7fc1000, 2, "[vvar]"));
  mm.add_vma(targets::special_vma(0x7ffff7fc3000, 2, "[vdso]"));
  mm.layout.start_brk = kBase;
  mm.layout.brk = kBase + 6 * kPage;
  mm.ldt = {0x00cff2000000ffffull, 0x00cffa000000ffffull};
}

void many_vmas(fake::Kernel& kernel) {
  fake::Mm& mm = kernel.new_mm();
  kernel.add_task(100, &mm);
  fake::File& file = kernel.new_file("/var/lib/data/a-rather-long-file-name-for-a-mapping.bin");
  for (uint64_t i = 0; i < 60; i++) {
    const uint64_t start = kBase + i * 4 * kPage;
    mm.add_vma(i % 2 ? targets::file_vma(start, 2, &file, i) : targets::anon_vma(start, 2));
  }
  mm.set(kBase, Pte::kAnon);
}

// HEAD of minor 1, an unknown record type, a TASK payload with a field
// appended and non-zero reserved fields, which a minor-0 reader must accept.
std::vector<uint8_t> newer_minor() {
  fake::reset_kernel();
  fake::Kernel& kernel = fake::kernel();
  fake::File& out = kernel.open_output(3);
  fake::Mm& mm = kernel.new_mm();
  mm.add_vma(targets::anon_vma(kBase, 1));
  ckpt_file_ref* file = nullptr;
  ckpt_file_get_output(3, &file);
  ckpt::FileRef ref(file);
  ckpt::MemMeter meter;
  ckpt::RecordWriter writer(ref.get(), meter);

  ckpt_head head{};
  std::memcpy(head.magic, CKPT_IMAGE_MAGIC, 8);
  head.major = CKPT_FORMAT_MAJOR;
  head.minor = CKPT_FORMAT_MINOR + 1;
  head.arch = CKPT_ARCH_X86_64;
  head.page_size = kPage;
  head.reserved[0] = 1;
  std::strcpy(head.release, "6.99.0-future");
  struct {
    ckpt_task task;
    uint64_t appended;
  } task{};
  task.task.pid = task.task.tid = 7;
  task.task.nr_threads = 1;
  task.task.state = CKPT_TASK_STOPPED;
  std::strcpy(task.task.comm, "future");
  task.appended = 0x1122334455667788ull;
  ckpt_mm layout{};
  ckpt_vma vma{};
  vma.start = kBase;
  vma.end = kBase + kPage;
  vma.kind = CKPT_VMA_ANON;
  ckpt_ldt ldt{8, 0};
  const char unknown[] = "a record type from the future";

  bool ok = writer.write(CKPT_REC_HEAD, &head, sizeof(head)).ok() &&
            writer.write(CKPT_REC_TASK, &task, sizeof(task)).ok() &&
            writer.write(CKPT_REC_MM, &layout, sizeof(layout)).ok() &&
            writer.write(42, unknown, sizeof(unknown)).ok();
  writer.count_vma();
  ok = ok && writer.write(CKPT_REC_VMA, &vma, sizeof(vma)).ok() &&
       writer.write(CKPT_REC_LDT, &ldt, sizeof(ldt)).ok() && writer.write_tail().ok();
  if (!ok) std::fprintf(stderr, "ckpt_corpus_generator: newer_minor: write failed\n");
  return ok ? out.data : std::vector<uint8_t>();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: ckpt_corpus_generator DIR\n");
    return 1;
  }
  const std::string dir = argv[1];
  bool ok = dump(dir, "worked_example.ckpt", 0, [](fake::Kernel& k) { targets::worked_example(k); });
  ok &= dump(dir, "empty.ckpt", 0, [](fake::Kernel& k) { k.add_task(100, &k.new_mm()); });
  ok &= dump(dir, "small_mix.ckpt", 0, small_mix);
  ok &= dump(dir, "small_mix_live.ckpt", CKPT_CHECKPOINT_LIVE, [](fake::Kernel& k) {
    small_mix(k);
    k.task(100)->quiescence = CKPT_QUIESCENT_NONE;
  });
  ok &= dump(dir, "many_vmas.ckpt", 0, many_vmas);
  const auto newer = newer_minor();
  ok &= !newer.empty() && save(dir, "newer_minor.ckpt", newer);
  return ok ? 0 : 1;
}
