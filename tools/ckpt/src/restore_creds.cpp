#include "restore_creds.h"

#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "raw_syscall.h"

namespace ckpt {
namespace {

struct CapSets {
    uint64_t inheritable = 0, permitted = 0, effective = 0;
};

bool get_caps(CapSets* out) {
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (raw_syscall(SYS_capget, long(&hdr), long(data)) != 0) return false;
    out->inheritable = data[0].inheritable | uint64_t(data[1].inheritable) << 32;
    out->permitted = data[0].permitted | uint64_t(data[1].permitted) << 32;
    out->effective = data[0].effective | uint64_t(data[1].effective) << 32;
    return true;
}

long set_caps(const CapSets& c) {
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    data[0] = {uint32_t(c.effective), uint32_t(c.permitted), uint32_t(c.inheritable)};
    data[1] = {uint32_t(c.effective >> 32), uint32_t(c.permitted >> 32), uint32_t(c.inheritable >> 32)};
    return raw_syscall(SYS_capset, long(&hdr), long(data));
}

int last_cap() {
    int v = 40;
    if (FILE* f = std::fopen("/proc/sys/kernel/cap_last_cap", "r")) {
        if (std::fscanf(f, "%d", &v) != 1 || v < 0 || v > 63) v = 40;
        std::fclose(f);
    }
    return v;
}

// The set of capabilities 0..last for which `prctl(op, cap)` says yes.
uint64_t cap_bits(int op, int arg, int last) {
    uint64_t bits = 0;
    for (int cap = 0; cap <= last; cap++)
        if (raw_syscall(SYS_prctl, op, arg ? arg : cap, arg ? cap : 0, 0, 0) == 1) bits |= uint64_t(1) << cap;
    return bits;
}

}  // namespace

CredsPlan plan_credentials(const ckpt_process& p, const std::vector<uint32_t>& groups) {
    CredsPlan c;
    c.last_cap = last_cap();
    for (int i = 0; i < CKPT_NR_IDS; i++) {
        c.uid[i] = p.uid[i];
        c.gid[i] = p.gid[i];
    }
    c.inheritable = p.cap_inheritable;
    c.permitted = p.cap_permitted;
    c.effective = p.cap_effective;
    c.bounding = p.cap_bset;
    c.ambient = p.cap_ambient;
    c.securebits = p.securebits;
    c.no_new_privs = p.flags & CKPT_PROCESS_NO_NEW_PRIVS;
    c.groups = groups;
    if (::geteuid() != 0) return c;

    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    CapSets mine;
    if (::getresuid(&ru, &eu, &su) || ::getresgid(&rg, &eg, &sg) || !get_caps(&mine)) return c;
    std::vector<gid_t> my_groups(size_t(std::max(::getgroups(0, nullptr), 0)));
    if (::getgroups(int(my_groups.size()), my_groups.data()) != int(my_groups.size())) return c;
    const uint64_t all = c.last_cap >= 63 ? ~uint64_t(0) : (uint64_t(1) << (c.last_cap + 1)) - 1;
    const bool same = c.uid[0] == ru && c.uid[1] == eu && c.uid[2] == su && c.uid[3] == eu && c.gid[0] == rg &&
                      c.gid[1] == eg && c.gid[2] == sg && c.gid[3] == eg &&
                      std::vector<uint32_t>(my_groups.begin(), my_groups.end()) == groups &&
                      c.inheritable == mine.inheritable && c.permitted == mine.permitted &&
                      c.effective == mine.effective && (c.bounding & all) == cap_bits(PR_CAPBSET_READ, 0, c.last_cap) &&
                      c.ambient == cap_bits(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c.last_cap) &&
                      c.securebits == uint32_t(::prctl(PR_GET_SECUREBITS)) &&
                      c.no_new_privs == (::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
    c.apply = !same;
    return c;
}

long apply_credentials(const CredsPlan& c, const char** step) {
    long ret = 0;
    // Each call, in an order in which every later one is still allowed.
#define CKPT_STEP(name, call)         \
    do {                              \
        *step = name;                 \
        if ((ret = (call)) < 0) return ret; \
    } while (0)
    if (!c.apply) return 0;
    // Keep every capability across the uid change: the sets are set below.
    CKPT_STEP("PR_SET_SECUREBITS", raw_syscall(SYS_prctl, PR_SET_SECUREBITS, SECBIT_KEEP_CAPS | SECBIT_NO_SETUID_FIXUP));
    CKPT_STEP("setgroups", raw_syscall(SYS_setgroups, long(c.groups.size()), long(c.groups.data())));
    CKPT_STEP("setresgid", raw_syscall(SYS_setresgid, c.gid[0], c.gid[1], c.gid[2]));
    raw_syscall(SYS_setfsgid, c.gid[3]);
    CKPT_STEP("setresuid", raw_syscall(SYS_setresuid, c.uid[0], c.uid[1], c.uid[2]));
    raw_syscall(SYS_setfsuid, c.uid[3]);
    *step = "setfsuid";
    if (uint32_t(raw_syscall(SYS_setfsuid, -1)) != c.uid[3] || uint32_t(raw_syscall(SYS_setfsgid, -1)) != c.gid[3])
        return -EPERM;
    // Ambient capabilities need to be inheritable (and permitted) first.
    CapSets now;
    *step = "capget";
    if (!get_caps(&now)) return -EPERM;
    now.inheritable = c.inheritable;
    CKPT_STEP("capset", set_caps(now));
    for (int cap = 0; cap <= c.last_cap; cap++)
        if (c.ambient & (uint64_t(1) << cap))
            CKPT_STEP("PR_CAP_AMBIENT_RAISE", raw_syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap));
    // The bounding set after the inheritable one, which must be within it.
    for (int cap = 0; cap <= c.last_cap; cap++)
        if (!(c.bounding & (uint64_t(1) << cap))) CKPT_STEP("PR_CAPBSET_DROP", raw_syscall(SYS_prctl, PR_CAPBSET_DROP, cap));
    CKPT_STEP("PR_SET_SECUREBITS", raw_syscall(SYS_prctl, PR_SET_SECUREBITS, c.securebits));
    CKPT_STEP("capset", set_caps({c.inheritable, c.permitted, c.effective}));
    if (c.no_new_privs) CKPT_STEP("PR_SET_NO_NEW_PRIVS", raw_syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1));
#undef CKPT_STEP
    return 0;
}

}  // namespace ckpt
