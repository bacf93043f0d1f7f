#include "image_format.h"

#include <cstdio>

namespace ckpt {

std::string record_type_name(uint32_t type) {
    switch (type) {
    case CKPT_REC_HEAD: return "HEAD";
    case CKPT_REC_TASK: return "TASK";
    case CKPT_REC_MM: return "MM";
    case CKPT_REC_VMA: return "VMA";
    case CKPT_REC_PAGES: return "PAGES";
    case CKPT_REC_LDT: return "LDT";
    case CKPT_REC_THREAD: return "THREAD";
    case CKPT_REC_PROCESS: return "PROCESS";
    case CKPT_REC_FILE: return "FILE";
    case CKPT_REC_RESTART: return "RESTART";
    case CKPT_REC_VDSO: return "VDSO";
    case CKPT_REC_SIGQUEUE: return "SIGQUEUE";
    case CKPT_REC_TAIL: return "TAIL";
    }
    return "type " + std::to_string(type);
}

bool is_known_record_type(uint32_t type) { return type >= CKPT_REC_HEAD && type <= CKPT_REC_VDSO; }

const char* thread_register_name(int i) {
    static constexpr const char* kNames[CKPT_THREAD_NR_REGS] = {
        "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi",
        "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs"};
    return i >= 0 && i < CKPT_THREAD_NR_REGS ? kNames[i] : "?";
}

std::string vma_kind_name(uint32_t kind) {
    switch (kind) {
    case CKPT_VMA_ANON: return "anon";
    case CKPT_VMA_FILE: return "file";
    case CKPT_VMA_SHARED: return "shared";
    case CKPT_VMA_SPECIAL: return "special";
    }
    return "kind " + std::to_string(kind);
}

std::string task_state_name(uint32_t state) {
    switch (state) {
    case CKPT_TASK_STOPPED: return "stopped";
    case CKPT_TASK_FROZEN: return "frozen";
    case CKPT_TASK_RUNNING: return "running";
    }
    return "state " + std::to_string(state);
}

std::string arch_name(uint32_t arch) {
    if (arch == CKPT_ARCH_X86_64) return "x86_64";
    return "arch " + std::to_string(arch);
}

std::string perms_string(uint64_t vm_flags) {
    std::string s = "----";
    if (vm_flags & kVmRead) s[0] = 'r';
    if (vm_flags & kVmWrite) s[1] = 'w';
    if (vm_flags & kVmExec) s[2] = 'x';
    s[3] = (vm_flags & kVmMayShare) ? 's' : 'p';
    return s;
}

// Inverse of the kernel's new_encode_dev().
uint32_t dev_major(uint64_t dev) { return uint32_t((dev & 0xfff00) >> 8); }
uint32_t dev_minor(uint64_t dev) { return uint32_t((dev & 0xff) | ((dev >> 12) & 0xfff00)); }

std::string dev_string(uint64_t dev) { return dev_string(dev_major(dev), dev_minor(dev)); }

std::string dev_string(uint32_t major, uint32_t minor) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02x:%02x", major, minor);
    return buf;
}

std::string file_kind_name(uint32_t kind) {
    static constexpr const char* kNames[] = {"", "regular", "directory", "fifo", "socket", "char", "block", "symlink",
                                             "anon"};
    if (kind >= CKPT_FILE_REGULAR && kind <= CKPT_FILE_ANON) return kNames[kind];
    return "kind " + std::to_string(kind);
}

std::string signal_name(int sig) {
    static constexpr const char* kNames[] = {
        "",        "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",    "SIGTRAP", "SIGABRT",  "SIGBUS",
        "SIGFPE",  "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",   "SIGPIPE", "SIGALRM",  "SIGTERM",
        "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP",   "SIGTTIN", "SIGTTOU",  "SIGURG",
        "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH",  "SIGIO",   "SIGPWR",   "SIGSYS"};
    if (sig >= 1 && sig <= 31) return kNames[sig];
    if (sig >= 32 && sig <= 64) return "SIGRT" + std::to_string(sig - 32);
    return "signal " + std::to_string(sig);
}

const char* rlimit_name(int resource) {
    static constexpr const char* kNames[CKPT_NR_RLIMITS] = {
        "cpu", "fsize", "data", "stack", "core", "rss", "nproc", "nofile",
        "memlock", "as", "locks", "sigpending", "msgqueue", "nice", "rtprio", "rttime"};
    return resource >= 0 && resource < CKPT_NR_RLIMITS ? kNames[resource] : "?";
}

std::string vma_flags_string(uint64_t flags) {
    std::string s;
    for (const VmaFlagName& f : kVmaFlagNames)
        if (flags & f.flag) s += (s.empty() ? "" : ",") + std::string(f.name);
    return s;
}

}  // namespace ckpt
