// Small text formatting helpers shared by the commands.
#pragma once

#include <cstdint>
#include <string>

#include "expected.h"

namespace ckpt {

std::string hex(uint64_t value);                   // "0x7f1c2a000000"
std::string octal(uint64_t value, int width = 1);  // "0022" for (022, 4)
std::string human_bytes(uint64_t bytes);           // "12.3 MiB"
std::string seconds_string(double seconds);        // "0.123 s"
std::string utc_time_string(uint64_t time_ns);     // "2024-05-01T12:34:56.123456789Z"
// Bounded C string from a fixed-size char array that may lack a NUL.
std::string fixed_cstring(const char* data, size_t max_len);

// Prints "ckpt: <message>" on stderr.
void print_error(const std::string& message);
// Exit code for an error: 1 usage, 2 format/mismatch, 3 system.
int exit_code_for(const Error& error);

constexpr int kExitOk = 0;
constexpr int kExitUsage = 1;
constexpr int kExitProblem = 2;
constexpr int kExitSystem = 3;

}  // namespace ckpt
