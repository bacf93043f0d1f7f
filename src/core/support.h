// SPDX-License-Identifier: GPL-2.0
//
// The little of the C++ standard library the core needs, for a freestanding
// build with no <utility> or <new>: move semantics, min/max, placement new,
// and allocation that reports failure instead of throwing.
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef CKPT_HOSTED
// Host test builds (tests/host) link the standard library, whose <new>
// already defines placement new; a second definition would clash with it.
#include <new>
#else
// Placement new: the core has no <new>.
inline void* operator new(size_t, void* where) noexcept { return where; }
#endif

namespace ckpt {

template <typename T> struct RemoveReference { using Type = T; };
template <typename T> struct RemoveReference<T&> { using Type = T; };
template <typename T> struct RemoveReference<T&&> { using Type = T; };

template <typename T>
constexpr typename RemoveReference<T>::Type&& move(T&& value) noexcept {
  return static_cast<typename RemoveReference<T>::Type&&>(value);
}

template <typename T>
constexpr T exchange(T& slot, T value) noexcept {
  T old = move(slot);
  slot = move(value);
  return old;
}

template <typename T> constexpr const T& min(const T& a, const T& b) { return b < a ? b : a; }
template <typename T> constexpr const T& max(const T& a, const T& b) { return a < b ? b : a; }

constexpr uint64_t round_up(uint64_t value, uint64_t align) {
  return (value + align - 1) & ~(align - 1);
}

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kPmdSize = 2ull << 20;

// Zircon's AllocChecker: `new (&ac) T(...)` returns nullptr on failure, and
// the caller must ask `ac.check()` before using the result.
class AllocChecker {
 public:
  AllocChecker() = default;
  AllocChecker(const AllocChecker&) = delete;
  AllocChecker& operator=(const AllocChecker&) = delete;

  void arm(bool ok) { ok_ = ok; }
  [[nodiscard]] bool check() const { return ok_; }

 private:
  bool ok_ = false;
};

}  // namespace ckpt

void* operator new(size_t size, ckpt::AllocChecker* ac) noexcept;
void* operator new[](size_t size, ckpt::AllocChecker* ac) noexcept;
