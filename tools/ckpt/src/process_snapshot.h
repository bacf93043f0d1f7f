// What /proc shows of a process's shared state and open descriptors: the
// other side of `ckpt verify --pid`'s PROCESS and FILE comparison.  Read
// from status, stat, limits, personality, auxv, the exe/cwd/root links and
// fd/ + fdinfo/, never from the module.
#pragma once

#include <linux/ckpt.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "expected.h"

namespace ckpt {

struct FileSnapshot {
    // fd, f_flags (O_CLOEXEC taken out), pos, kind, dev, ino, size, mode,
    // rdev; fd_flags has CLOEXEC only when fdinfo's flags show O_CLOEXEC.
    ckpt_file file{};
    std::string path;        // readlink of /proc/PID/fd/N
    bool cloexec_known = true;  // false when fdinfo's O_CLOEXEC is ambiguous
};

struct ProcessSnapshot {
    // Filled: pid, ns_pid, ppid, pgid, sid, flags (NO_NEW_PRIVS only),
    // umask, personality, uid, gid, the capability sets, sig_pending,
    // exit_signal, rlim.  The rest is 0.
    ckpt_process fixed{};
    bool personality_known = false;  // /proc/PID/personality needs ptrace access
    uint64_t sig_ignored = 0;   // SigIgn: handler SIG_IGN
    uint64_t sig_caught = 0;    // SigCgt: a handler of the program's
    std::vector<uint64_t> auxv;
    std::vector<uint32_t> groups;
    std::string exe, cwd, root;  // empty where the link cannot be read
    std::vector<FileSnapshot> files;  // ascending fd
};

// Reads it all.  A descriptor closed while the directory is read is left
// out; an unreadable status, stat or limits is an Io error.
Expected<ProcessSnapshot> read_process_snapshot(pid_t pid);

// Parsers, exposed for tests.
bool parse_status_into(const std::string& text, ProcessSnapshot* out);
bool parse_limits_into(const std::string& text, ProcessSnapshot* out);
// fdinfo's "pos:", "flags:" (octal) and "ino:" lines.
bool parse_fdinfo(const std::string& text, uint64_t* pos, uint32_t* flags, uint64_t* ino);
// The FILE kind for a stat mode and a readlink path.
uint32_t file_kind_for(uint32_t mode, const std::string& path);

}  // namespace ckpt
