// SPDX-License-Identifier: GPL-2.0
//
// One heap, as in the kernel: ckpt_kmalloc and the test binary's operator
// new both take from malloc.  They must, because src/core/runtime.cpp
// replaces the global operator delete with ckpt_kfree, so whatever new
// allocated (gtest, std containers) is freed through ckpt_kfree too.
//
// ckpt_kmalloc's allocations are kept in a ledger (a fixed array: the ledger
// must not allocate, since freeing its memory would re-enter it), so tests
// can assert that a dump frees everything it allocated, and the Nth
// allocation can be made to fail.
#include <cstdlib>
#include <new>

#include "fake_bridge.h"

namespace {

struct Allocation {
  const void* ptr;
  size_t size;
};

constexpr size_t kMaxLive = 16384;
Allocation g_live[kMaxLive];
size_t g_nr_live = 0;
uint64_t g_live_bytes = 0;
uint64_t g_total = 0;
long g_fail_countdown = -1;  // allocations that succeed before one fails
long g_injected = 0;

bool injected_failure() {
  if (g_fail_countdown < 0 || g_fail_countdown-- > 0) return false;
  g_injected++;
  return true;
}

void* host_allocate(size_t size) {
  void* memory = std::malloc(size ? size : 1);
  if (!memory) throw std::bad_alloc();
  return memory;
}

}  // namespace

namespace fake::heap {

size_t live_allocations() { return g_nr_live; }
uint64_t live_bytes() { return g_live_bytes; }
uint64_t total_allocations() { return g_total; }

long fail_nth(long nth) {
  const long injected = g_injected;
  g_injected = 0;
  g_fail_countdown = nth;
  return injected;
}

}  // namespace fake::heap

extern "C" {

void* ckpt_kmalloc(size_t size) {
  if (injected_failure()) return nullptr;
  if (g_nr_live == kMaxLive) std::abort();  // a leak this large fails loudly
  void* memory = std::malloc(size ? size : 1);
  if (!memory) return nullptr;
  g_live[g_nr_live++] = {memory, size};
  g_live_bytes += size;
  g_total++;
  return memory;
}

void ckpt_kfree(const void* ptr) {
  if (!ptr) return;
  for (size_t i = 0; i < g_nr_live; i++) {
    if (g_live[i].ptr != ptr) continue;
    g_live_bytes -= g_live[i].size;
    g_live[i] = g_live[--g_nr_live];
    break;
  }
  // Not in the ledger: memory from the operator new below.
  std::free(const_cast<void*>(ptr));
}

long ckpt_kunit_fail_alloc(long nth) { return fake::heap::fail_nth(nth); }

}  // extern "C"

void* operator new(size_t size) { return host_allocate(size); }
void* operator new[](size_t size) { return host_allocate(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept { return std::malloc(size ? size : 1); }
void* operator new[](size_t size, const std::nothrow_t&) noexcept { return std::malloc(size ? size : 1); }
