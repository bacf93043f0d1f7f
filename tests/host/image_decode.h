// SPDX-License-Identifier: GPL-2.0
//
// An image read back by the CLI's own streaming reader (tools/ckpt/src/
// image_reader.cpp), which checks every rule of the format: framing,
// padding, checksums, record order, page placement and the TAIL.  Only
// plain structs cross this header, so tests of the core never see the
// CLI's headers (both use namespace ckpt).
#pragma once

#include <linux/ckpt.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace host_test {

struct DecodedPage {
  uint64_t addr;
  std::vector<uint8_t> data;
};

struct DecodedVma {
  ckpt_vma vma;
  std::string name;
  std::vector<DecodedPage> pages;
  std::vector<uint32_t> pages_records;  // nr of each of its PAGES records
};

struct DecodedSigQueue {
  ckpt_sigqueue queue;
  std::vector<std::array<uint8_t, CKPT_SIGINFO_SIZE>> infos;
};

struct DecodedThread {
  ckpt_thread thread;
  std::vector<uint8_t> fpu;
  std::optional<ckpt_restart> restart;  // the RESTART record after it
  std::optional<DecodedSigQueue> sigqueue;  // the SIGQUEUE record after it
};

struct DecodedFile {
  ckpt_file file;
  std::string path;
};

struct DecodedImage {
  bool ok = false;
  std::string error;  // the reader's message when !ok
  ckpt_head head{};
  ckpt_task task{};
  ckpt_mm mm{};
  uint64_t processes = 0;  // PROCESS records
  ckpt_process process{};
  std::vector<uint64_t> auxv;
  std::vector<uint32_t> groups;
  std::string exe, cwd, root;
  std::optional<DecodedSigQueue> sigqueue;  // the process's, after PROCESS
  std::vector<DecodedThread> threads;
  std::vector<DecodedFile> files;
  uint64_t vdso_start = 0;       // the VDSO record, if any
  std::vector<uint8_t> vdso;
  std::vector<DecodedVma> vmas;
  std::vector<uint64_t> ldt;
  ckpt_tail tail{};
  uint64_t records = 0;  // HEAD and TAIL included
  uint64_t bytes = 0;

  uint64_t nr_pages() const;
};

DecodedImage decode_image(const uint8_t* data, size_t size);
inline DecodedImage decode_image(const std::vector<uint8_t>& bytes) { return decode_image(bytes.data(), bytes.size()); }

}  // namespace host_test
