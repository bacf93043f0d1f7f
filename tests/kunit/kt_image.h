// SPDX-License-Identifier: GPL-2.0
//
// Reading back what a RecordWriter wrote into a test file: an independent
// little decoder, so the tests check the stream, not the writer's own
// bookkeeping.
#pragma once

#include <linux/ckpt.h>

#include "crc32c.h"
#include "kbuffer.h"
#include "kt_test.h"

namespace ckpt::kt {

// A temporary tmpfs file, released at scope exit.
class TempFile {
 public:
  explicit TempFile(uint64_t size = 0) : file_(ckpt_kt_tmpfile(size)) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (file_) ckpt_file_put(file_);
  }
  ckpt_file_ref* get() const { return file_; }
  bool pread(void* buf, size_t len, uint64_t off) const {
    return ckpt_kt_pread(file_, buf, len, off) == long(len);
  }

 private:
  ckpt_file_ref* file_;
};

struct RecordView {
  ckpt_rec_hdr hdr;
  uint64_t offset;       // of the header
  uint64_t next;         // offset of the next record
  uint32_t computed_crc; // over header bytes 0..15 and the payload
  bool padding_zero;
};

// Reads the record at `off`, checksumming its payload as it goes.
inline bool read_record(const TempFile& file, uint64_t off, RecordView* view) {
  view->offset = off;
  if (!file.pread(&view->hdr, sizeof(view->hdr), off)) return false;
  Crc32c crc;
  crc.update(&view->hdr, 16);
  uint8_t chunk[512];
  uint64_t at = off + sizeof(view->hdr);
  uint64_t left = view->hdr.len;
  while (left) {
    const size_t n = size_t(min<uint64_t>(left, sizeof(chunk)));
    if (!file.pread(chunk, n, at)) return false;
    crc.update(chunk, n);
    at += n;
    left -= n;
  }
  view->computed_crc = crc.value();
  const size_t pad = size_t(round_up(view->hdr.len, 8) - view->hdr.len);
  uint8_t zeros[8] = {};
  view->padding_zero = true;
  if (pad) {
    if (!file.pread(chunk, pad, at)) return false;
    view->padding_zero = __builtin_memcmp(chunk, zeros, pad) == 0;
  }
  view->next = at + pad;
  return true;
}

}  // namespace ckpt::kt
