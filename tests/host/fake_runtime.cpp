// SPDX-License-Identifier: GPL-2.0
//
// The bridge's runtime services over the fake kernel: signals, scheduling,
// time, identity, warnings and the x86 LDT.  Memory is in host_heap.cpp.
#include <algorithm>
#include <cstring>

#include "fake_bridge.h"

using fake::kernel;

extern "C" {

int ckpt_signal_pending(void) { return kernel().signal_pending; }

void ckpt_cond_resched(void) { kernel().resched_calls++; }

void ckpt_sleep_tick(void) { kernel().sleep_ticks++; }

__u64 ckpt_time_ns(void) { return kernel().time_ns; }

// Each reading a millisecond after the last: any timed interval is 1 ms.
__u64 ckpt_clock_ns(void) { return kernel().clock_ns += 1000 * 1000; }

// strscpy(): as much as fits, always NUL-terminated.
void ckpt_kernel_release(char* buf, size_t len) {
  if (!len) return;
  const std::string& release = kernel().release;
  const size_t n = std::min(release.size(), len - 1);
  std::memcpy(buf, release.data(), n);
  buf[n] = '\0';
}

int ckpt_cpu_has_crc32c(void) { return kernel().cpu_has_crc32c; }

void ckpt_warn_vma(const char* what, __u64 start, __u64 end, int err) {
  kernel().warnings.push_back({what, start, end, err});
}

// Work "on another CPU" runs when it is waited for, as late as it could:
// a chain released before the wait would be read after its release.  A
// test may run it earlier (Kernel::run_started_work), as a blocked write
// would let it.
struct ckpt_worker {
  void (*fn)(void*);
  void* arg;
  bool started;
};

size_t ckpt_worker_size(void) { return sizeof(ckpt_worker); }

void ckpt_worker_init(ckpt_worker* w) { *w = ckpt_worker{nullptr, nullptr, false}; }

void ckpt_worker_start(ckpt_worker* w, void (*fn)(void*), void* arg) {
  if (w->started) kernel().violation("ckpt_worker_start of a work item still running");
  *w = ckpt_worker{fn, arg, true};
  kernel().workers_running++;
  kernel().started_work.push_back({fn, arg});
}

void ckpt_worker_wait(ckpt_worker* w) {
  if (!w->started) {
    kernel().violation("ckpt_worker_wait of a work item not started");
    return;
  }
  auto& started = kernel().started_work;
  for (auto it = started.begin(); it != started.end(); ++it) {
    if (it->second != w->arg) continue;
    started.erase(it);
    w->fn(w->arg);  // not run early: run it now
    break;
  }
  if (kernel().worker_wake_every && kernel().worker_runs % kernel().worker_wake_every == 0)
    kernel().clock_ns += kernel().worker_wake_ns;
  w->started = false;
  kernel().workers_running--;
  kernel().worker_runs++;
}

__u32 ckpt_ldt_entry_size(void) { return 8; }

int ckpt_ldt_copy(ckpt_mm_ref* ref, void* buf, __u32 capacity, __u32* nr) {
  fake::Mm* mm = reinterpret_cast<fake::Mm*>(ref);
  if (mm->before_ldt_copy) mm->before_ldt_copy(*mm);
  if (mm->ldt_error) return mm->ldt_error;
  *nr = __u32(mm->ldt.size());
  if (*nr > capacity) return -EOVERFLOW;
  if (*nr) std::memcpy(buf, mm->ldt.data(), mm->ldt.size() * sizeof(uint64_t));
  return 0;
}

int ckpt_vdso_copy(ckpt_mm_ref* ref, void* buf, __u32 capacity, __u64* start, __u32* size) {
  fake::Mm* mm = reinterpret_cast<fake::Mm*>(ref);
  *start = mm->vdso.empty() ? 0 : mm->vdso_start;
  *size = __u32(mm->vdso.size());
  if (*size > capacity) return -EOVERFLOW;
  if (*size) std::memcpy(buf, mm->vdso.data(), *size);
  return 0;
}

}  // extern "C"
