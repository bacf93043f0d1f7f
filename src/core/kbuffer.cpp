// SPDX-License-Identifier: GPL-2.0
#include "kbuffer.h"

namespace ckpt {

Result<KBuffer> KBuffer::allocate(MemMeter& meter, size_t size) {
  void* memory = ckpt_kmalloc(size ? size : 1);
  if (!memory) return error(kENOMEM);
  meter.charge(size);
  KBuffer buffer;
  buffer.meter_ = &meter;
  buffer.data_ = static_cast<uint8_t*>(memory);
  buffer.size_ = size;
  return buffer;
}

}  // namespace ckpt
