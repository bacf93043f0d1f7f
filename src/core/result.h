// SPDX-License-Identifier: GPL-2.0
//
// Results instead of exceptions: a Status is 0 or a negative errno, a
// Result<T> is a value or a negative errno.  CKPT_TRY propagates failure.
#pragma once

#include "support.h"

namespace ckpt {

// Errno values the core names; the bridge returns the kernel's own.
enum Errno : int {
  kEPERM = 1,
  kENOENT = 2,
  kESRCH = 3,
  kEINTR = 4,
  kEIO = 5,
  kE2BIG = 7,
  kEBADF = 9,
  kEAGAIN = 11,
  kENOMEM = 12,
  kEFAULT = 14,
  kEBUSY = 16,
  kEINVAL = 22,
  kENOSPC = 28,
  kENAMETOOLONG = 36,
  kEOVERFLOW = 75,
  kEOPNOTSUPP = 95,
  kEHWPOISON = 133,
};

class [[nodiscard]] Status {
 public:
  constexpr Status() = default;
  static constexpr Status from_errno(int err) { return Status(err); }
  // A bridge return value: negative is an errno, anything else success.
  static constexpr Status from_return(long ret) { return Status(ret < 0 ? static_cast<int>(ret) : 0); }

  constexpr bool ok() const { return err_ == 0; }
  constexpr int error() const { return err_; }

 private:
  constexpr explicit Status(int err) : err_(err) {}
  int err_ = 0;
};

constexpr Status kOk{};
constexpr Status error(int err) { return Status::from_errno(-err); }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : err_(status.error()) {}  // NOLINT

  bool ok() const { return err_ == 0; }
  Status status() const { return Status::from_errno(err_); }
  T& value() { return value_; }
  T take() { return move(value_); }

 private:
  T value_{};
  int err_ = 0;
};

}  // namespace ckpt

#define CKPT_CONCAT_(a, b) a##b
#define CKPT_CONCAT(a, b) CKPT_CONCAT_(a, b)

// Return the failure of a Status-returning expression.
#define CKPT_TRY(expr)                              \
  do {                                              \
    ::ckpt::Status ckpt_try_status_ = (expr);       \
    if (!ckpt_try_status_.ok()) return ckpt_try_status_; \
  } while (0)

// `CKPT_TRY_ASSIGN(auto x, make_x())`: declare x from a Result, or return.
#define CKPT_TRY_ASSIGN(decl, expr) \
  CKPT_TRY_ASSIGN_(CKPT_CONCAT(ckpt_try_result_, __LINE__), decl, expr)
#define CKPT_TRY_ASSIGN_(tmp, decl, expr) \
  auto tmp = (expr);                      \
  if (!tmp.ok()) return tmp.status();     \
  decl = tmp.take()
