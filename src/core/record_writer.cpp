// SPDX-License-Identifier: GPL-2.0
#include "record_writer.h"

#include "page_copy.h"

namespace ckpt {
namespace {

constexpr size_t kHeaderSize = sizeof(ckpt_rec_hdr);
constexpr size_t kCrcCovered = 16;  // type, flags, len
static_assert(kHeaderSize == 24, "record header is 24 bytes");

// Zeros for padding, in read-only data: no constructor, no allocation.
constexpr uint8_t kZeros[kPageSize] = {};

ckpt_rec_hdr make_header(uint32_t type, uint64_t len) {
  ckpt_rec_hdr header{};
  header.type = type;
  header.len = len;
  return header;
}

}  // namespace

Status RecordWriter::flush() {
  if (!staged_) return kOk;
  CKPT_TRY(Status::from_return(ckpt_file_write(out_, staging_.data(), staged_)));
  staged_ = 0;
  return kOk;
}

// Small pieces are staged; a piece as large as the buffer goes straight out.
Status RecordWriter::emit(const void* data, size_t len) {
  if (len >= kStagingSize) {
    CKPT_TRY(flush());
    CKPT_TRY(Status::from_return(ckpt_file_write(out_, data, len)));
    offset_ += len;
    return kOk;
  }
  if (!staging_.data()) {
    CKPT_TRY_ASSIGN(staging_, KBuffer::allocate(meter_, kStagingSize));
  }
  const auto* bytes = static_cast<const uint8_t*>(data);
  while (len) {
    const size_t n = min(len, kStagingSize - staged_);
    __builtin_memcpy(staging_.data() + staged_, bytes, n);
    staged_ += n;
    offset_ += n;
    bytes += n;
    len -= n;
    if (staged_ == kStagingSize) CKPT_TRY(flush());
  }
  return kOk;
}

Status RecordWriter::emit_zeros(size_t len) {
  while (len) {
    size_t n = min(len, sizeof(kZeros));
    CKPT_TRY(emit(kZeros, n));
    len -= n;
  }
  return kOk;
}

void RecordWriter::finish_record(uint32_t crc) {
  // The tail's checksum chains the records' checksums, as LE bytes.
  uint8_t le[4] = {uint8_t(crc), uint8_t(crc >> 8), uint8_t(crc >> 16), uint8_t(crc >> 24)};
  chain_crc_.update(le, sizeof(le));
  nr_records_++;
}

Status RecordWriter::write(uint32_t type, const Chunk* chunks, size_t nr_chunks) {
  uint64_t len = 0;
  for (size_t i = 0; i < nr_chunks; i++) len += chunks[i].len;

  ckpt_rec_hdr header = make_header(type, len);
  RecordChecksum crc(type == CKPT_REC_HEAD ? RecordChecksum::kCrc32c : checksum_);
  crc.update(&header, kCrcCovered);
  for (size_t i = 0; i < nr_chunks; i++) crc.update(chunks[i].data, chunks[i].len);
  header.crc = crc.value();

  CKPT_TRY(emit(&header, sizeof(header)));
  for (size_t i = 0; i < nr_chunks; i++) CKPT_TRY(emit(chunks[i].data, chunks[i].len));
  CKPT_TRY(emit_zeros(round_up(len, 8) - len));
  finish_record(header.crc);
  return kOk;
}

// Everything of a PAGES record before the page contents.
Status RecordWriter::emit_pages_prefix(const PageArrayChain& chain, const ckpt_rec_hdr& header,
                                       const ckpt_pages& pages, size_t pad) {
  CKPT_TRY(emit(&header, sizeof(header)));
  CKPT_TRY(emit(&pages, sizeof(pages)));
  CKPT_TRY(chain.for_each_array([&](const uint64_t* addrs, ckpt_page_ref* const*, uint32_t n) {
    return emit(addrs, n * sizeof(uint64_t));
  }));
  return emit_zeros(pad);
}

// A PAGES record:
//   | header | ckpt_pages | addr[nr] | zeros to a page boundary | pages |
// The checksum covers the page contents, so the header can only be written
// once they are copied; the layout depends only on the offset the record
// starts at, so it can be planned before earlier records are written.
RecordWriter::PagesPlan RecordWriter::plan_pages(const PageArrayChain& chain, uint64_t at, RecordChecksum* crc) {
  const uint32_t nr = chain.size();
  const uint64_t payload_start = at + kHeaderSize;
  const uint64_t addrs_end = payload_start + sizeof(ckpt_pages) + uint64_t(nr) * sizeof(uint64_t);
  const uint64_t data_start = round_up(addrs_end, kPageSize);

  PagesPlan plan{};
  plan.at = at;
  plan.pages.nr = nr;
  plan.pages.data_off = data_start - payload_start;
  plan.header = make_header(CKPT_REC_PAGES, plan.pages.data_off + uint64_t(nr) * kPageSize);
  plan.pad = data_start - addrs_end;

  crc->update(&plan.header, kCrcCovered);
  crc->update(&plan.pages, sizeof(plan.pages));
  (void)chain.for_each_array([&](const uint64_t* addrs, ckpt_page_ref* const*, uint32_t n) {
    crc->update(addrs, n * sizeof(uint64_t));
    return kOk;
  });
  crc->update_zeros(uint32_t(plan.pad));  // less than a page
  return plan;
}

Status RecordWriter::write_pages(const PageArrayChain& chain) {
  RecordChecksum crc = record_checksum();
  const PagesPlan plan = plan_pages(chain, offset_, &crc);
  CKPT_TRY_ASSIGN(KBuffer copy, KBuffer::allocate(meter_, size_t(chain.size()) * kPageSize));
  uint64_t lost = 0;
  CKPT_TRY(copy_pages(chain, copy.data(), crc, &lost));
  return write_copied_pages(chain, plan, crc.value(), copy.data());
}

Status RecordWriter::write_copied_pages(const PageArrayChain& chain, PagesPlan plan, uint32_t crc,
                                        const uint8_t* contents) {
  if (plan.at != offset_ || plan.pages.nr != chain.size()) return error(kEIO);  // a planning bug
  plan.header.crc = crc;
  CKPT_TRY(emit_pages_prefix(chain, plan.header, plan.pages, plan.pad));
  CKPT_TRY(emit(contents, size_t(plan.pages.nr) * kPageSize));
  nr_pages_ += plan.pages.nr;
  finish_record(crc);
  return kOk;
}

Status RecordWriter::write_tail() {
  ckpt_tail tail{};
  tail.nr_records = nr_records_;
  tail.bytes = offset_;
  tail.nr_vmas = nr_vmas_;
  tail.nr_pages = nr_pages_;
  tail.crc = chain_crc_.value();
  CKPT_TRY(write(CKPT_REC_TAIL, &tail, sizeof(tail)));
  CKPT_TRY(flush());
  staging_ = KBuffer();  // the image is complete: nothing more to stage
  return kOk;
}

}  // namespace ckpt
