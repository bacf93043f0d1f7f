// SPDX-License-Identifier: GPL-2.0
//
// The C++ runtime the core needs in the kernel: allocation through the
// bridge, and the pure-virtual trap.  There is deliberately no throwing
// `operator new`: code that forgets to check an allocation does not link.
#include <ckpt/bridge.h>

#include "support.h"

void* operator new(size_t size, ckpt::AllocChecker* ac) noexcept {
  void* memory = ckpt_kmalloc(size);
  ac->arm(memory != nullptr);
  return memory;
}

void* operator new[](size_t size, ckpt::AllocChecker* ac) noexcept {
  void* memory = ckpt_kmalloc(size);
  ac->arm(memory != nullptr);
  return memory;
}

void operator delete(void* memory) noexcept { ckpt_kfree(memory); }
void operator delete(void* memory, size_t) noexcept { ckpt_kfree(memory); }
void operator delete[](void* memory) noexcept { ckpt_kfree(memory); }
void operator delete[](void* memory, size_t) noexcept { ckpt_kfree(memory); }

// Called through a vtable slot that was never overridden: a bug, so stop
// here rather than jump through NULL.
extern "C" void __cxa_pure_virtual();
extern "C" void __cxa_pure_virtual() { __builtin_trap(); }
