// SPDX-License-Identifier: GPL-2.0
//
// The bridge's file functions over the fake kernel: output fds that record
// every byte, with short writes and failures injected as src/bridge/output.c
// would see them from vfs_iter_write().
#include <algorithm>
#include <cstring>

#include "fake_bridge.h"

namespace {

using fake::kernel;

fake::File* file_of(ckpt_file_ref* file) { return reinterpret_cast<fake::File*>(file); }

void require_writable_state(fake::File* file, const char* function) {
  if (kernel().any_mm_locked()) kernel().violation(std::string(function) + " called with the mmap lock held");
  if (file->refs <= 0) kernel().violation(std::string(function) + " on a file the core does not hold");
}

// ckpt_file_write_iter(): retry short writes; a write that makes no progress
// is -EIO; an error is returned as the file system gave it.
int write_all(fake::File* file, const uint8_t* data, size_t len) {
  while (len) {
    if (file->data.size() >= file->fail_at) return -file->fail_errno;
    if (file->no_progress) return -EIO;
    const size_t n = std::min({len, file->max_chunk, size_t(file->fail_at - file->data.size())});
    file->data.insert(file->data.end(), data, data + n);
    data += n;
    len -= n;
    if (file->on_write) file->on_write(*file);
  }
  return 0;
}

}  // namespace

extern "C" {

int ckpt_file_get_output(__s32 fd, ckpt_file_ref** out) {
  if (fd < 0) return -EBADF;
  fake::File* file = kernel().fd(fd);
  if (!file || !file->writable) return -EBADF;
  file->refs++;
  *out = fake::handle(file);
  return 0;
}

void ckpt_file_put(ckpt_file_ref* ref) {
  fake::File* file = file_of(ref);
  if (file->refs <= 0)
    kernel().violation("put of a file the core does not hold");
  else
    file->refs--;
}

int ckpt_file_path(ckpt_file_ref* ref, char* buf, size_t len) {
  const fake::File* file = file_of(ref);
  if (file->path_error) return file->path_error;
  if (file->path.size() + 1 > len) return -ENAMETOOLONG;
  std::memcpy(buf, file->path.c_str(), file->path.size() + 1);
  return int(file->path.size());
}

int ckpt_file_write(ckpt_file_ref* ref, const void* buf, size_t len) {
  fake::File* file = file_of(ref);
  require_writable_state(file, "ckpt_file_write");
  return write_all(file, static_cast<const uint8_t*>(buf), len);
}

}  // extern "C"
