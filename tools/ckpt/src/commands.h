// The subcommands, each taking parsed options and returning an exit code.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace ckpt {

struct DumpOptions {
    pid_t pid = 0;
    std::string output;  // "-" is stdout
    bool live = false;
    bool leave_stopped = false;
    bool quiet = false;
    std::string stats;  // "": none; else a file for the JSON figures
    std::optional<uint32_t> checksum;  // CKPT_CSUM_*; none: the module's choice
    std::chrono::milliseconds stop_timeout{10000};
};

struct ShowOptions {
    std::string input;  // "-" is stdin
    bool json = false;
    bool pages = false;
};

struct VerifyOptions {
    std::string input;  // "-" is stdin
    pid_t pid = 0;      // 0: structure and checksums only
    bool live = false;
    bool quiet = false;
    std::chrono::milliseconds stop_timeout{10000};
};

struct CoreOptions {
    std::string input;   // "-" is stdin
    std::string output;  // a regular file
    bool quiet = false;
};

struct RestoreOptions {
    std::string input;  // "-" is stdin
    bool detach = false;
    bool any_pid = false;
    bool skip_fds = false;
    bool quiet = false;
    // `ckpt restore --restorer IMAGE_FD PRELUDE_FD STATUS_FD`: the process
    // `ckpt restore` starts, which becomes the restored one (restorer.cpp).
    bool restorer = false;
    int restorer_fds[3] = {-1, -1, -1};
};

int run_dump(const DumpOptions& options);
int run_show(const ShowOptions& options);
int run_verify(const VerifyOptions& options);
int run_core(const CoreOptions& options);
int run_restore(const RestoreOptions& options);

}  // namespace ckpt
