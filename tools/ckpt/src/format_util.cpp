#include "format_util.h"

#include <cstdio>
#include <cstring>
#include <ctime>

namespace ckpt {

std::string hex(uint64_t value) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(value));
    return buf;
}

std::string octal(uint64_t value, int width) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%0*llo", width, static_cast<unsigned long long>(value));
    return buf;
}

std::string human_bytes(uint64_t bytes) {
    static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = double(bytes);
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024;
        u++;
    }
    char buf[32];
    if (u == 0)
        std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
    else
        std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    return buf;
}

std::string seconds_string(double seconds) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f s", seconds);
    return buf;
}

std::string utc_time_string(uint64_t time_ns) {
    time_t secs = time_t(time_ns / 1000000000u);
    struct tm tm {};
    if (!gmtime_r(&secs, &tm)) return std::to_string(time_ns) + " ns";
    char date[40];
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s.%09lluZ", date, static_cast<unsigned long long>(time_ns % 1000000000u));
    return buf;
}

std::string fixed_cstring(const char* data, size_t max_len) {
    return std::string(data, strnlen(data, max_len));
}

void print_error(const std::string& message) { std::fprintf(stderr, "ckpt: %s\n", message.c_str()); }

int exit_code_for(const Error& error) {
    switch (error.kind) {
    case ErrorKind::Usage: return kExitUsage;
    case ErrorKind::Format: return kExitProblem;
    case ErrorKind::Io: return kExitSystem;
    }
    return kExitSystem;
}

}  // namespace ckpt
