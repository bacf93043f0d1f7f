// SPDX-License-Identifier: GPL-2.0
//
// Frames records into the image stream (include/uapi/linux/ckpt.h):
// header, payload, zero padding to 8 bytes; each record checksummed, the
// tail chaining every record's checksum.  Knows the stream offset, so PAGES
// records can put page contents on page-aligned offsets.
//
// Everything but page contents (headers, metadata records, addresses,
// padding) is gathered in a small staging buffer and written when it fills
// or before page contents: a one-page VMA costs two writes, not nine.
#pragma once

#include <ckpt/bridge.h>
#include <linux/ckpt.h>

#include "checksum.h"
#include "crc32c.h"
#include "kbuffer.h"
#include "page_array.h"
#include "result.h"

namespace ckpt {

// One contiguous piece of a record's payload.
struct Chunk {
  const void* data;
  size_t len;
};

class RecordWriter {
 public:
  RecordWriter(ckpt_file_ref* out, MemMeter& meter) : out_(out), meter_(meter) {}

  // The checksum of every record after HEAD (CKPT_CSUM_*, as HEAD says);
  // HEAD's own is CRC-32C.  Set before the first record.
  void use_checksum(uint32_t algorithm) { checksum_ = algorithm; }
  // A fresh checksum for a record after HEAD.
  RecordChecksum record_checksum() const { return RecordChecksum(checksum_); }

  // A record whose payload is the concatenation of `chunks`.
  Status write(uint32_t type, const Chunk* chunks, size_t nr_chunks);
  Status write(uint32_t type, const void* payload, size_t len) {
    Chunk chunk{payload, len};
    return write(type, &chunk, 1);
  }

  // A PAGES record for every page in `chain`, which must be non-empty:
  // the pages are copied (page_copy.h), checksummed and written from the
  // copy.  The chain keeps its references.
  Status write_pages(const PageArrayChain& chain);

  // The same in two steps, so that the pages can be copied elsewhere
  // (PageCopier) while an earlier record is written.
  struct PagesPlan {
    ckpt_rec_hdr header;  // crc still 0
    ckpt_pages pages;
    size_t pad;
    uint64_t at;          // stream offset the record starts at
    uint64_t bytes() const { return sizeof(ckpt_rec_hdr) + header.len; }
  };
  // The record for `chain` if it starts at offset `at`; `crc` receives the
  // checksum of everything before the page contents.
  static PagesPlan plan_pages(const PageArrayChain& chain, uint64_t at, RecordChecksum* crc);
  // Writes a planned record at its offset: `chain` gives the addresses,
  // `contents` their pages' copies, and `crc` covers the contents too.
  Status write_copied_pages(const PageArrayChain& chain, PagesPlan plan, uint32_t crc,
                            const uint8_t* contents);

  // Writes the tail record and everything still staged.
  Status write_tail();
  // Writes what is staged (write_tail does; for streams without a tail).
  Status flush();

  static constexpr size_t kStagingSize = 4 * kPageSize;

  void count_vma() { nr_vmas_++; }
  // Bytes of the stream so far, staged or written.
  uint64_t offset() const { return offset_; }
  // Bytes the output has received.
  uint64_t written() const { return offset_ - staged_; }
  uint64_t nr_vmas() const { return nr_vmas_; }
  uint64_t nr_pages() const { return nr_pages_; }

 private:
  Status emit(const void* data, size_t len);
  Status emit_zeros(size_t len);
  Status emit_pages_prefix(const PageArrayChain& chain, const ckpt_rec_hdr& header,
                           const ckpt_pages& pages, size_t pad);
  void finish_record(uint32_t crc);

  ckpt_file_ref* out_;
  MemMeter& meter_;
  uint64_t offset_ = 0;
  KBuffer staging_;
  size_t staged_ = 0;
  uint64_t nr_records_ = 0;
  uint64_t nr_vmas_ = 0;
  uint64_t nr_pages_ = 0;
  uint32_t checksum_ = RecordChecksum::kCrc32c;
  Crc32c chain_crc_;  // always CRC-32C
};

}  // namespace ckpt
