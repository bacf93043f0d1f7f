// SPDX-License-Identifier: GPL-2.0
//
// src/core/record_writer.cpp, read back with record_frames.h (independent
// of both the core and the CLI): framing, padding, checksums, PAGES layout
// at every alignment, stable vs copied pages, the tail's chain, errors.
#include "record_writer.h"

#include <cstring>
#include <string>

#include "chain_pages.h"
#include "fixture.h"
#include "record_frames.h"
#include "targets.h"

namespace {

using host_test::Frame;
using host_test::split_frames;
using targets::kBase;
using targets::kPage;

constexpr uint32_t kMaxArrays = CKPT_PAGES_MAX / ckpt::PageArrayChain::kEntriesPerArray;

class RecordWriterTest : public FakeKernelTest {
 protected:
  RecordWriterTest() { EXPECT_EQ(ckpt_file_get_output(3, &ref_), 0); }

  void TearDown() override {
    ckpt_file_put(ref_);
    FakeKernelTest::TearDown();
  }

  std::vector<Frame> frames(const std::vector<uint8_t>& bytes) {
    std::string error;
    auto result = split_frames(bytes, &error);
    EXPECT_EQ(error, "");
    for (const Frame& frame : result) {
      EXPECT_EQ(frame.hdr.crc, frame.computed_crc) << "record at " << frame.offset;
      EXPECT_EQ(frame.hdr.flags, 0u);
      EXPECT_EQ(frame.hdr.reserved, 0u);
    }
    return result;
  }

  // Checks one PAGES record against the chain it was written from.
  void expect_pages_record(const Frame& frame, uint64_t first, uint32_t nr, uint8_t salt) {
    ASSERT_EQ(frame.hdr.type, uint32_t(CKPT_REC_PAGES));
    ckpt_pages pages;
    std::memcpy(&pages, frame.payload, sizeof(pages));
    ASSERT_EQ(pages.nr, nr);
    EXPECT_EQ(pages.reserved, 0u);
    const uint64_t addrs_end = sizeof(ckpt_pages) + 8ull * nr;
    ASSERT_GE(pages.data_off, addrs_end);
    EXPECT_LT(pages.data_off - addrs_end, kPage) << "the smallest data_off that aligns";
    EXPECT_EQ((frame.offset + sizeof(ckpt_rec_hdr) + pages.data_off) % kPage, 0u) << "page data unaligned";
    ASSERT_EQ(frame.hdr.len, pages.data_off + uint64_t(nr) * kPage);
    for (uint32_t i = 0; i < nr; i++) {
      uint64_t addr;
      std::memcpy(&addr, frame.payload + sizeof(ckpt_pages) + 8 * i, 8);
      ASSERT_EQ(addr, first + i * kPage);
    }
    for (uint64_t i = addrs_end; i < pages.data_off; i++) ASSERT_EQ(frame.payload[i], 0) << "padding byte " << i;
    for (uint32_t i = 0; i < nr; i++) {
      const uint8_t* data = frame.payload + pages.data_off + uint64_t(i) * kPage;
      const uint64_t addr = first + i * kPage;
      for (size_t b = 0; b < kPage; b += 509) ASSERT_EQ(data[b], fake::pattern_byte(addr, salt, b)) << "page " << i;
    }
  }

  fake::File& out_ = kernel().open_output(3);
  fake::Mm& mm_ = kernel().new_mm();
  ckpt_file_ref* ref_ = nullptr;
  ckpt::MemMeter meter_;
};

TEST_F(RecordWriterTest, FramesHeaderPayloadAndPadding) {
  ckpt::RecordWriter writer(ref_, meter_);
  ASSERT_TRUE(writer.write(42, "hello", 5).ok());
  EXPECT_EQ(writer.offset(), 32u);
  EXPECT_EQ(writer.written(), 0u) << "small records are staged";
  EXPECT_TRUE(out_.data.empty());
  ASSERT_TRUE(writer.flush().ok());
  EXPECT_EQ(writer.written(), 32u);
  ASSERT_EQ(out_.data.size(), 32u);
  const auto result = frames(out_.data);
  ASSERT_EQ(result.size(), 1u);
  EXPECT_EQ(result[0].hdr.type, 42u);
  EXPECT_EQ(result[0].hdr.len, 5u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(result[0].payload), 5), "hello");
}

TEST_F(RecordWriterTest, PadsEveryLengthToEight) {
  ckpt::RecordWriter writer(ref_, meter_);
  const uint8_t payload[17] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
  uint64_t expected_offset = 0;
  for (size_t len = 0; len <= sizeof(payload); len++) {
    ASSERT_TRUE(writer.write(CKPT_REC_TASK, payload, len).ok());
    expected_offset += 24 + (len + 7) / 8 * 8;
    EXPECT_EQ(writer.offset(), expected_offset) << "len " << len;
  }
  ASSERT_TRUE(writer.flush().ok());
  EXPECT_EQ(out_.data.size(), expected_offset);
  const auto result = frames(out_.data);
  ASSERT_EQ(result.size(), sizeof(payload) + 1);
  for (size_t len = 0; len < result.size(); len++) EXPECT_EQ(result[len].hdr.len, len);
}

TEST_F(RecordWriterTest, ChunksMakeOnePayload) {
  ckpt::RecordWriter writer(ref_, meter_);
  const ckpt::Chunk chunks[] = {{"abc", 3}, {"", 0}, {"defgh", 5}, {"ij", 2}};
  ASSERT_TRUE(writer.write(CKPT_REC_VMA, chunks, 4).ok());
  ASSERT_TRUE(writer.write(CKPT_REC_VMA, "abcdefghij", 10).ok());
  ASSERT_TRUE(writer.flush().ok());
  const auto result = frames(out_.data);
  ASSERT_EQ(result.size(), 2u);
  EXPECT_EQ(result[0].hdr.crc, result[1].hdr.crc);
  EXPECT_EQ(std::memcmp(result[0].payload, result[1].payload, 10), 0);
}

// Every 8-byte start offset within a page, and then some, for small and
// large records: page contents always start on a page boundary.
TEST_F(RecordWriterTest, PagesAlignedAtEveryStartOffset) {
  ckpt::PageArrayChain chain(meter_, kMaxArrays);
  for (uint32_t nr : {1u, 3u}) {
    chain.release();
    ASSERT_TRUE(add_held_pages(chain, mm_, nr, kBase, uint8_t(nr)).ok());
    for (uint64_t shift = 0; shift <= kPage + 16; shift += 8) {
      out_.data.clear();
      ckpt::RecordWriter writer(ref_, meter_);
      const std::vector<uint8_t> filler(shift, 0xAB);
      if (shift >= 24) {
        ASSERT_TRUE(writer.write(CKPT_REC_MM, filler.data(), shift - 24).ok());
      }
      const uint64_t start = writer.offset();
      ASSERT_TRUE(writer.write_pages(chain).ok());
      ASSERT_TRUE(writer.flush().ok());  // a small record may still be staged
      EXPECT_EQ(writer.nr_pages(), nr);
      const auto result = frames(out_.data);
      ASSERT_FALSE(result.empty());
      ASSERT_EQ(result.back().offset, start);
      expect_pages_record(result.back(), kBase, nr, uint8_t(nr));
      if (HasFatalFailure()) return;
    }
  }
}

TEST_F(RecordWriterTest, LargePagesRecordsAtAFewOffsets) {
  ckpt::PageArrayChain chain(meter_, kMaxArrays);
  for (uint32_t nr : {511u, 512u, 513u, 2048u}) {
    chain.release();
    ASSERT_TRUE(add_held_pages(chain, mm_, nr, kBase, 9).ok());
    for (uint64_t prefix : {0ull, 8ull, 4000ull, 4072ull}) {
      out_.data.clear();
      ckpt::RecordWriter writer(ref_, meter_);
      const std::vector<uint8_t> filler(prefix, 0xCD);
      ASSERT_TRUE(writer.write(CKPT_REC_MM, filler.data(), prefix).ok());
      ASSERT_TRUE(writer.write_pages(chain).ok());
      const auto result = frames(out_.data);
      ASSERT_EQ(result.size(), 2u);
      expect_pages_record(result[1], kBase, nr, 9);
      EXPECT_EQ(writer.offset(), out_.data.size());
    }
  }
}

// Every page is read once, through the machine-check-safe copy, and the
// copy is charged to the dump.
TEST_F(RecordWriterTest, PagesAreReadOnceThroughTheSafeCopy) {
  ckpt::PageArrayChain chain(meter_, kMaxArrays);
  for (uint32_t nr : {1u, 16u, 600u}) {
    chain.release();
    ASSERT_TRUE(add_held_pages(chain, mm_, nr, kBase, 4).ok());
    out_.data.clear();
    ckpt::MemMeter meter;
    ckpt::RecordWriter writer(ref_, meter);
    const uint64_t copies = fake::kernel().page_copies;
    ASSERT_TRUE(writer.write(CKPT_REC_VMA, "x", 1).ok());
    ASSERT_TRUE(writer.write_pages(chain).ok());
    ASSERT_TRUE(writer.write_tail().ok());
    EXPECT_EQ(fake::kernel().page_copies - copies, nr);
    EXPECT_EQ(meter.current(), 0u);
    EXPECT_GE(meter.peak(), nr * kPage) << "the copy is charged";
    std::string error;
    for (const auto& frame : split_frames(out_.data, &error)) EXPECT_EQ(frame.hdr.crc, frame.computed_crc);
  }
}

// Memory that changes while it is written (another process writing into a
// stopped target, DMA) cannot make the checksum disagree with the image:
// the checksum is taken from the copy that is written.
TEST_F(RecordWriterTest, ChecksumDescribesTheBytesWrittenEvenIfMemoryChanges) {
  ckpt::PageArrayChain chain(meter_, kMaxArrays);
  ASSERT_TRUE(add_held_pages(chain, mm_, 4, kBase).ok());
  out_.data.clear();
  fake::Page* page = mm_.slot(kBase + kPage)->page.get();
  out_.on_write = [page](fake::File&) { page->data[100]++; };  // the target changes
  ckpt::RecordWriter writer(ref_, meter_);
  ASSERT_TRUE(writer.write_pages(chain).ok());
  out_.on_write = nullptr;
  std::string error;
  const auto result = split_frames(out_.data, &error);
  ASSERT_EQ(result.size(), 1u);
  EXPECT_EQ(result[0].hdr.crc, result[0].computed_crc);
}

// A page whose memory cannot be read fails the record before any of it is
// written.
TEST_F(RecordWriterTest, MemoryErrorWritesNothing) {
  ckpt::PageArrayChain chain(meter_, kMaxArrays);
  ASSERT_TRUE(add_held_pages(chain, mm_, 5, kBase).ok());
  mm_.slot(kBase + 3 * kPage)->page->memory_error = true;
  out_.data.clear();
  ckpt::RecordWriter writer(ref_, meter_);
  EXPECT_EQ(writer.write_pages(chain).error(), -EHWPOISON);
  EXPECT_TRUE(out_.data.empty());
  EXPECT_EQ(writer.offset(), 0u);
  EXPECT_EQ(writer.nr_pages(), 0u);
  mm_.slot(kBase + 3 * kPage)->page->memory_error = false;
}

TEST_F(RecordWriterTest, TailCountsAndChainsEveryRecord) {
  ckpt::PageArrayChain chain(meter_, kMaxArrays);
  ASSERT_TRUE(add_held_pages(chain, mm_, 5, kBase).ok());
  ckpt::RecordWriter writer(ref_, meter_);
  ASSERT_TRUE(writer.write(CKPT_REC_HEAD, "head", 4).ok());
  writer.count_vma();
  ASSERT_TRUE(writer.write(CKPT_REC_VMA, "vma one", 7).ok());
  ASSERT_TRUE(writer.write_pages(chain).ok());
  writer.count_vma();
  ASSERT_TRUE(writer.write(CKPT_REC_VMA, "vma two", 7).ok());
  ASSERT_TRUE(writer.write_pages(chain).ok());
  const uint64_t tail_offset = writer.offset();
  ASSERT_TRUE(writer.write_tail().ok());

  const auto result = frames(out_.data);
  ASSERT_EQ(result.size(), 6u);
  const Frame& tail_frame = result.back();
  ASSERT_EQ(tail_frame.hdr.type, uint32_t(CKPT_REC_TAIL));
  ASSERT_EQ(tail_frame.hdr.len, sizeof(ckpt_tail));
  ckpt_tail tail;
  std::memcpy(&tail, tail_frame.payload, sizeof(tail));
  EXPECT_EQ(tail.nr_records, 5u);
  EXPECT_EQ(tail.bytes, tail_offset);
  EXPECT_EQ(tail_frame.offset, tail_offset);
  EXPECT_EQ(tail.nr_vmas, 2u);
  EXPECT_EQ(tail.nr_pages, 10u);
  EXPECT_EQ(tail.reserved, 0u);
  uint32_t chained = 0;
  for (size_t i = 0; i + 1 < result.size(); i++) {
    const uint32_t crc = result[i].hdr.crc;
    const uint8_t le[4] = {uint8_t(crc), uint8_t(crc >> 8), uint8_t(crc >> 16), uint8_t(crc >> 24)};
    chained = host_test::reference_crc32c(le, 4, chained);
  }
  EXPECT_EQ(tail.crc, chained);
}

TEST_F(RecordWriterTest, ShortWritesChangeNothing) {
  ckpt::PageArrayChain chain(meter_, kMaxArrays);
  ASSERT_TRUE(add_held_pages(chain, mm_, 3, kBase).ok());
  std::vector<uint8_t> images[2];
  for (size_t chunk : {size_t(SIZE_MAX), size_t(5)}) {
    out_.data.clear();
    out_.max_chunk = chunk;
    ckpt::RecordWriter writer(ref_, meter_);
    ASSERT_TRUE(writer.write(CKPT_REC_HEAD, "head", 4).ok());
    ASSERT_TRUE(writer.write_pages(chain).ok());
    ASSERT_TRUE(writer.write_tail().ok());
    images[chunk == 5] = out_.data;
  }
  EXPECT_EQ(images[0], images[1]);
}

// Whatever the file system says is the dump's error, unchanged, at every
// stage of a record: header, payload, padding, addresses, page contents.
TEST_F(RecordWriterTest, WriteErrorsAreReturnedAsIs) {
  ckpt::PageArrayChain chain(meter_, kMaxArrays);
  ASSERT_TRUE(add_held_pages(chain, mm_, 40, kBase).ok());
  const int kErestartsys = 512;
  for (int err : {ENOSPC, EPIPE, EAGAIN, EINTR, EIO, EFBIG, EINVAL, kErestartsys}) {
    for (uint64_t fail_at : {0ull, 10ull, 24ull, 29ull, 40ull, 48ull, 80ull, 300ull, 4095ull, 4096ull, 9000ull,
                             40000ull, 4096ull * 41 - 1}) {
      SCOPED_TRACE("errno " + std::to_string(err) + " after " + std::to_string(fail_at) + " bytes");
      out_.data.clear();
      out_.fail_at = fail_at;
      out_.fail_errno = err;
      ckpt::RecordWriter writer(ref_, meter_);
      ckpt::Status status = writer.write(CKPT_REC_HEAD, "0123456789abcdef", 13);
      if (status.ok()) status = writer.write_pages(chain);
      if (status.ok()) status = writer.write_tail();
      EXPECT_EQ(status.error(), -err);
      EXPECT_LE(writer.written(), fail_at);
      EXPECT_EQ(out_.data.size(), fail_at);
      EXPECT_EQ(writer.nr_pages(), 0u);
    }
  }
  out_.fail_at = UINT64_MAX;
}

TEST_F(RecordWriterTest, CopyAllocationFailureWritesNothing) {
  ckpt::PageArrayChain chain(meter_, kMaxArrays);
  ASSERT_TRUE(add_held_pages(chain, mm_, 16, kBase).ok());
  ckpt::MemMeter meter;
  ckpt::RecordWriter writer(ref_, meter);
  fake::heap::fail_nth(0);
  EXPECT_EQ(writer.write_pages(chain).error(), -ENOMEM);
  EXPECT_EQ(fake::heap::fail_nth(-1), 1);
  EXPECT_TRUE(out_.data.empty());
  EXPECT_EQ(writer.offset(), 0u);
  EXPECT_EQ(meter.current(), 0u);
}

}  // namespace
