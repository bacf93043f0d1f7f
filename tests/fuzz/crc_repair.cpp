// SPDX-License-Identifier: GPL-2.0
#include "crc_repair.h"

#include <linux/ckpt.h>

#include <cstddef>
#include <cstring>

#include "crc32c.h"
#include "record_checksum.h"

namespace ckpt_fuzz {

bool repair_checksums(std::vector<uint8_t>& bytes) {
  bool changed = false;
  uint32_t chain = ckpt::kCrc32cInit;  // TAIL's chain: always CRC-32C
  // HEAD's crc is CRC-32C; the records after it use HEAD's algorithm (an
  // unknown one computes CRC-32C: the reader refuses the image anyway).
  uint32_t algo = CKPT_CSUM_CRC32C;
  uint64_t offset = 0;
  while (bytes.size() - offset >= sizeof(ckpt_rec_hdr)) {
    ckpt_rec_hdr hdr;
    std::memcpy(&hdr, &bytes[offset], sizeof(hdr));
    const uint64_t payload = offset + sizeof(hdr);
    if (hdr.len > bytes.size() - payload) break;
    if (hdr.type == CKPT_REC_TAIL && hdr.len >= sizeof(ckpt_tail)) {
      const uint32_t tail_crc = ckpt::crc32c_final(chain);
      const size_t at = payload + offsetof(ckpt_tail, crc);
      changed |= std::memcmp(&bytes[at], &tail_crc, 4) != 0;
      std::memcpy(&bytes[at], &tail_crc, 4);
    }
    const uint32_t crc = ckpt::record_crc(algo, hdr, bytes.data() + payload, hdr.len);
    changed |= crc != hdr.crc;
    std::memcpy(&bytes[offset + offsetof(ckpt_rec_hdr, crc)], &crc, 4);
    const uint8_t le[4] = {uint8_t(crc), uint8_t(crc >> 8), uint8_t(crc >> 16), uint8_t(crc >> 24)};
    chain = ckpt::crc32c_update(chain, le, sizeof(le));
    if (offset == 0 && hdr.type == CKPT_REC_HEAD && hdr.len >= sizeof(ckpt_head)) {
      ckpt_head head;
      std::memcpy(&head, &bytes[payload], sizeof(head));
      algo = ckpt::image_checksum(head);
    }
    const uint64_t padded = (hdr.len + 7) & ~uint64_t(7);
    if (padded > bytes.size() - payload) break;
    offset = payload + padded;
  }
  return changed;
}

}  // namespace ckpt_fuzz
