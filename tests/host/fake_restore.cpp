// SPDX-License-Identifier: GPL-2.0
//
// The restore half of the bridge (src/bridge/restore.c) over the fake
// kernel: current's address space is Kernel::restored.
#include <cstring>

#include "fake_bridge.h"

namespace {

using fake::kernel;

fake::File* file_of(ckpt_file_ref* ref) { return reinterpret_cast<fake::File*>(ref); }

bool overlaps(uint64_t start, uint64_t end, uint64_t s, uint64_t e) { return start < e && s < end; }

}  // namespace

extern "C" {

int ckpt_file_get_input(__s32 fd, ckpt_file_ref** out) {
  fake::File* file = kernel().fd(fd);
  if (!file) return -EBADF;
  file->refs++;
  *out = fake::handle(file);
  return 0;
}

long ckpt_file_read(ckpt_file_ref* ref, void* buf, size_t len) {
  fake::File* file = file_of(ref);
  if (kernel().any_mm_locked()) kernel().violation("ckpt_file_read with the mmap lock held");
  const uint64_t left = file->data.size() > file->read_pos ? file->data.size() - file->read_pos : 0;
  const size_t n = size_t(left < len ? left : len);
  if (n) std::memcpy(buf, file->data.data() + file->read_pos, n);
  file->read_pos += n;
  return long(n);
}

int ckpt_restore_open(const char* path, __u64 ino, __u64 dev, __u64 min_size, int writable, ckpt_file_ref** out) {
  const auto it = kernel().restored.files.find(path);
  if (it == kernel().restored.files.end()) return -ENOENT;
  fake::File* file = it->second;
  if (file->ino != ino || file->dev != dev || file->size < min_size) return -ESTALE;
  file->refs++;
  file->opened_writable = writable != 0;
  *out = fake::handle(file);
  return 0;
}

int ckpt_restore_shmem_create(const char* name, __u64 size, ckpt_file_ref** out) {
  fake::File& file = kernel().new_file(std::string("/") + name + " (deleted)");
  file.size = size;
  file.refs = 1;
  kernel().restored.objects.push_back(&file);
  *out = fake::handle(&file);
  return 0;
}

int ckpt_restore_shmem_grow(ckpt_file_ref* ref, __u64 size) {
  fake::File* file = file_of(ref);
  if (file->refs <= 0) kernel().violation("ckpt_restore_shmem_grow of a file the core does not hold");
  if (file->size < size) file->size = size;
  return 0;
}

int ckpt_restore_file_write(ckpt_file_ref* ref, const void* buf, size_t len, __u64 pos) {
  fake::File* file = file_of(ref);
  if (file->refs <= 0) kernel().violation("ckpt_restore_file_write of a file the core does not hold");
  if (pos % fake::kPageSize || len % fake::kPageSize) kernel().violation("ckpt_restore_file_write of a partial page");
  if (pos + len > file->size) kernel().violation("ckpt_restore_file_write past the object's end");
  for (uint64_t off = 0; off < len; off += fake::kPageSize)
    std::memcpy(kernel().restored.object_pages[{file, pos + off}].data(), static_cast<const uint8_t*>(buf) + off,
                fake::kPageSize);
  return 0;
}

__u64 ckpt_restore_user_limit(void) { return kernel().restored.user_limit; }

int ckpt_restore_map(__u64 start, __u64 end, __u32 prot, int shared, int growsdown, int noreserve,
                     ckpt_file_ref* file, __u64 pgoff) {
  fake::Restored& r = kernel().restored;
  if (start >= end || start % fake::kPageSize || end % fake::kPageSize || end > r.user_limit) return -EINVAL;
  if (file && file_of(file)->refs <= 0) kernel().violation("ckpt_restore_map of a file the core does not hold");
  for (const auto& [s, e] : r.own)
    if (overlaps(start, end, s, e)) return -EEXIST;
  for (const fake::RestoredMapping& m : r.maps)
    if (overlaps(start, end, m.start, m.end)) return -EEXIST;
  r.maps.push_back({start, end, prot, shared != 0, growsdown != 0, noreserve != 0, file ? file_of(file) : nullptr, pgoff});
  return 0;
}

// The restorer's array is this process's memory here.
int ckpt_restore_put_advice(__u64 uaddr, __u32 index, const ckpt_restore_advice* advice) {
  if (kernel().restored.advice_faults) return -EFAULT;
  reinterpret_cast<ckpt_restore_advice*>(uintptr_t(uaddr))[index] = *advice;
  return 0;
}

int ckpt_restore_put_ldt(__u64 uaddr, const void* entries, __u32 nr) {
  if (kernel().restored.ldt_faults) return -EFAULT;
  std::memcpy(reinterpret_cast<void*>(uintptr_t(uaddr)), entries, size_t(nr) * 8);
  return 0;
}

int ckpt_restore_write(__u64 addr, const void* buf, size_t len) {
  fake::Restored& r = kernel().restored;
  if (addr % fake::kPageSize || len % fake::kPageSize) kernel().violation("ckpt_restore_write of a partial page");
  for (uint64_t off = 0; off < len; off += fake::kPageSize) {
    const uint64_t page = addr + off;
    bool mapped = false;
    for (const fake::RestoredMapping& m : r.maps) mapped = mapped || (page >= m.start && page < m.end);
    if (!mapped) return -EFAULT;
    std::memcpy(r.pages[page].data(), static_cast<const uint8_t*>(buf) + off, fake::kPageSize);
  }
  return 0;
}

int ckpt_restore_set_mm(const ckpt_mm* rec) {
  kernel().restored.mm = *rec;
  return 0;
}

}  // extern "C"
