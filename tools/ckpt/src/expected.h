// Result type used across module boundaries instead of exceptions.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace ckpt {

// Format errors mean "the data is wrong" (exit 2); Io errors mean "the system
// failed us" (exit 3).  Callers pick the exit code from the kind.
enum class ErrorKind { Format, Io, Usage };

struct Error {
    ErrorKind kind = ErrorKind::Io;
    std::string message;
};

inline Error format_error(std::string message) { return {ErrorKind::Format, std::move(message)}; }
inline Error io_error(std::string message) { return {ErrorKind::Io, std::move(message)}; }
inline Error usage_error(std::string message) { return {ErrorKind::Usage, std::move(message)}; }

template <typename T>
class [[nodiscard]] Expected {
public:
    Expected(T value) : state_(std::move(value)) {}
    Expected(Error error) : state_(std::move(error)) {}

    bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(state_); }
    const T& value() const& { return std::get<0>(state_); }
    T&& value() && { return std::get<0>(std::move(state_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }

    const Error& error() const { return std::get<1>(state_); }

private:
    std::variant<T, Error> state_;
};

struct Unit {};
using Status = Expected<Unit>;
inline Status ok_status() { return Unit{}; }

}  // namespace ckpt
