// The restored process's credentials: uids, gids, supplementary groups,
// capability sets (inheritable, permitted, effective, bounding, ambient),
// securebits and no_new_privs, from its PROCESS record.  Credentials are
// per thread: every thread applies them to itself as its last step before
// CKPT_IOC_RESTORE_FINISH (which the restoring open file authorises, not
// the thread's capabilities), the main thread after it started the others
// (clone3() with set_tid needs its privilege).
#pragma once

#include <linux/ckpt.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ckpt {

struct CredsPlan {
    bool apply = false;  // root restores, and the image's differ from ours
    uint32_t uid[CKPT_NR_IDS] = {};
    uint32_t gid[CKPT_NR_IDS] = {};
    uint64_t inheritable = 0, permitted = 0, effective = 0, bounding = 0, ambient = 0;
    uint32_t securebits = 0;
    bool no_new_privs = false;
    std::vector<uint32_t> groups;
    int last_cap = 40;  // /proc/sys/kernel/cap_last_cap
};

// What the restored threads take; apply is false when the caller is not
// root (then restore_warnings() says they run as the caller) or when the
// image's credentials are the caller's.
CredsPlan plan_credentials(const ckpt_process& process, const std::vector<uint32_t>& groups);

// Makes the calling thread's credentials the plan's: raw system calls, no
// allocation.  Returns 0, or a negative errno with `*step` naming the
// call that failed.
long apply_credentials(const CredsPlan& plan, const char** step);

}  // namespace ckpt
