// SPDX-License-Identifier: GPL-2.0
#include "shared_objects.h"

namespace ckpt {

SharedObjects::~SharedObjects() {
  Entry* entries = reinterpret_cast<Entry*>(table_.data());
  for (uint32_t i = 0; i < count_; i++) ckpt_file_put(entries[i].file);
}

Result<ckpt_file_ref*> SharedObjects::get(uint64_t dev, uint64_t ino, const char* name, uint64_t size) {
  if (!table_.data()) {
    Result<KBuffer> table = KBuffer::allocate(meter_, kMax * sizeof(Entry));
    if (!table.ok()) return table.status();
    table_ = table.take();
  }
  Entry* entries = reinterpret_cast<Entry*>(table_.data());
  for (uint32_t i = 0; i < count_; i++) {
    if (entries[i].dev != dev || entries[i].ino != ino) continue;
    CKPT_TRY(Status::from_return(ckpt_restore_shmem_grow(entries[i].file, size)));
    return entries[i].file;
  }
  if (count_ == kMax) return error(kEOPNOTSUPP);
  ckpt_file_ref* file = nullptr;
  CKPT_TRY(Status::from_return(ckpt_restore_shmem_create(name, size, &file)));
  entries[count_++] = {dev, ino, file};
  return file;
}

}  // namespace ckpt
