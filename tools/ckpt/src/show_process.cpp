// `ckpt show` for the PROCESS and FILE records.
#include "show_process.h"

#include <cstdio>
#include <string>

#include "format_util.h"
#include "image_format.h"

namespace ckpt {
namespace {

constexpr uint64_t kRlimInfinity = ~uint64_t(0);

std::string ids_string(const uint32_t (&ids)[CKPT_NR_IDS]) {
    std::string s;
    for (uint32_t id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
    return s;
}

std::string limit_string(uint64_t v) { return v == kRlimInfinity ? "unlimited" : std::to_string(v); }

std::string path_or(const std::string& path, bool too_long) {
    if (too_long) return "(longer than 4095 bytes)";
    return path.empty() ? "(none)" : path;
}

// "SIGUSR1 0x401230 (flags 0x14000004), SIGPIPE ignored", or "all default".
std::string actions_string(const ckpt_process& p) {
    std::string s;
    for (int i = 0; i < CKPT_NR_SIGNALS; i++) {
        const ckpt_sigaction& a = p.action[i];
        if (a.handler == 0 && a.flags == 0 && a.mask == 0) continue;
        if (!s.empty()) s += ", ";
        s += signal_name(i + 1);
        if (a.handler == 1)
            s += " ignored";
        else if (a.handler == 0)
            s += " default";
        else
            s += " " + hex(a.handler);
        if (a.flags) s += " (flags " + hex(a.flags) + ")";
    }
    return s.empty() ? "all default" : s;
}

std::string signal_set_string(uint64_t set) {
    std::string s;
    for (int i = 0; i < 64; i++)
        if (set & (uint64_t(1) << i)) s += (s.empty() ? "" : " ") + signal_name(i + 1);
    return s.empty() ? "none" : s;
}

std::string access_mode(uint32_t f_flags) {
    switch (f_flags & 3) {
    case 0: return "read";
    case 1: return "write";
    case 2: return "read-write";
    }
    return "mode 3";
}

}  // namespace

void print_process(const ProcessRecord& r) {
    const ckpt_process& p = r.process;
    std::string groups;
    for (uint32_t g : r.groups) groups += " " + std::to_string(g);
    std::string flags;
    if (p.flags & CKPT_PROCESS_NO_NEW_PRIVS) flags += ", no_new_privs";
    if (p.flags & CKPT_PROCESS_CHILD_SUBREAPER) flags += ", child subreaper";
    std::printf("process:  pid %d (%d in its namespace), ppid %d, pgid %d, sid %d, exit signal %s\n", p.pid, p.ns_pid,
                p.ppid, p.pgid, p.sid, p.exit_signal ? signal_name(int(p.exit_signal)).c_str() : "none");
    std::printf("          uid %s, gid %s, groups%s, umask %s, personality %s, dumpable %u%s\n",
                ids_string(p.uid).c_str(), ids_string(p.gid).c_str(), groups.empty() ? " none" : groups.c_str(),
                octal(p.umask, 4).c_str(), hex(p.personality).c_str(), p.dumpable, flags.c_str());
    std::printf("          caps inheritable %s, permitted %s, effective %s, bounding %s, ambient %s, securebits %s\n",
                hex(p.cap_inheritable).c_str(), hex(p.cap_permitted).c_str(), hex(p.cap_effective).c_str(),
                hex(p.cap_bset).c_str(), hex(p.cap_ambient).c_str(), hex(p.securebits).c_str());
    std::printf("          exe %s\n", path_or(r.exe, p.flags & CKPT_PROCESS_EXE_TOO_LONG).c_str());
    std::printf("          cwd %s, root %s\n", path_or(r.cwd, p.flags & CKPT_PROCESS_CWD_TOO_LONG).c_str(),
                path_or(r.root, p.flags & CKPT_PROCESS_ROOT_TOO_LONG).c_str());
    std::printf("          signals: %s; pending %s\n", actions_string(p).c_str(),
                signal_set_string(p.sig_pending).c_str());
    std::string limits;
    for (int i = 0; i < CKPT_NR_RLIMITS; i++) {
        if (p.rlim[i][0] == kRlimInfinity && p.rlim[i][1] == kRlimInfinity) continue;
        limits += std::string(limits.empty() ? "" : ", ") + rlimit_name(i) + " " + limit_string(p.rlim[i][0]) + "/" +
                  limit_string(p.rlim[i][1]);
    }
    std::printf("          limits: %s (others unlimited); auxv %zu entries\n", limits.empty() ? "none" : limits.c_str(),
                r.auxv.size() / 2);
}

void print_file(const FileRecord& r) {
    const ckpt_file& f = r.file;
    const bool too_long = f.fd_flags & CKPT_FILE_PATH_TOO_LONG;
    std::printf("file:     fd %u %s %s, %s, flags %s, pos %llu%s\n", f.fd, file_kind_name(f.kind).c_str(),
                path_or(r.path, too_long).c_str(), access_mode(f.f_flags).c_str(), octal(f.f_flags, 1).c_str(),
                static_cast<unsigned long long>(f.pos), (f.fd_flags & CKPT_FILE_CLOEXEC) ? ", cloexec" : "");
}

void write_process_json(JsonWriter& w, const ProcessRecord& r) {
    const ckpt_process& p = r.process;
    w.begin_object();
    w.field("pid", p.pid);
    w.field("ns_pid", p.ns_pid);
    w.field("ppid", p.ppid);
    w.field("pgid", p.pgid);
    w.field("sid", p.sid);
    w.field("no_new_privs", (p.flags & CKPT_PROCESS_NO_NEW_PRIVS) != 0);
    w.field("child_subreaper", (p.flags & CKPT_PROCESS_CHILD_SUBREAPER) != 0);
    w.field("umask", p.umask);
    w.field("personality", p.personality);
    w.key("uid");
    w.begin_array();
    for (uint32_t id : p.uid) w.value(id);
    w.end_array();
    w.key("gid");
    w.begin_array();
    for (uint32_t id : p.gid) w.value(id);
    w.end_array();
    w.key("groups");
    w.begin_array();
    for (uint32_t g : r.groups) w.value(g);
    w.end_array();
    w.field("cap_inheritable", hex(p.cap_inheritable));
    w.field("cap_permitted", hex(p.cap_permitted));
    w.field("cap_effective", hex(p.cap_effective));
    w.field("cap_bset", hex(p.cap_bset));
    w.field("cap_ambient", hex(p.cap_ambient));
    w.field("securebits", p.securebits);
    w.field("dumpable", p.dumpable);
    w.field("sig_pending", hex(p.sig_pending));
    w.field("exit_signal", p.exit_signal);
    w.field("pdeath_signal", p.pdeath_signal);
    w.key("rlimits");
    w.begin_object();
    for (int i = 0; i < CKPT_NR_RLIMITS; i++) {
        w.key(rlimit_name(i));
        w.begin_array();
        for (uint64_t v : p.rlim[i]) v == kRlimInfinity ? w.value("unlimited") : w.value(static_cast<unsigned long long>(v));
        w.end_array();
    }
    w.end_object();
    w.key("actions");
    w.begin_array();
    for (const ckpt_sigaction& a : p.action) {
        w.begin_object();
        w.field("handler", hex(a.handler));
        w.field("flags", hex(a.flags));
        w.field("restorer", hex(a.restorer));
        w.field("mask", hex(a.mask));
        w.end_object();
    }
    w.end_array();
    w.key("auxv");
    w.begin_array();
    for (uint64_t v : r.auxv) w.value(hex(v));
    w.end_array();
    w.field("exe", r.exe);
    w.field("exe_too_long", (p.flags & CKPT_PROCESS_EXE_TOO_LONG) != 0);
    w.field("cwd", r.cwd);
    w.field("cwd_too_long", (p.flags & CKPT_PROCESS_CWD_TOO_LONG) != 0);
    w.field("root", r.root);
    w.field("root_too_long", (p.flags & CKPT_PROCESS_ROOT_TOO_LONG) != 0);
    w.end_object();
}

void write_file_json(JsonWriter& w, const FileRecord& r) {
    const ckpt_file& f = r.file;
    w.begin_object();
    w.field("fd", f.fd);
    w.field("cloexec", (f.fd_flags & CKPT_FILE_CLOEXEC) != 0);
    w.field("kind", file_kind_name(f.kind));
    w.field("f_flags", f.f_flags);
    w.field("pos", static_cast<unsigned long long>(f.pos));
    w.field("dev", dev_string(f.dev));
    w.field("ino", static_cast<unsigned long long>(f.ino));
    w.field("size", static_cast<unsigned long long>(f.size));
    w.field("mode", f.mode);
    w.field("rdev", dev_string(f.rdev));
    w.field("path", r.path);
    w.field("path_too_long", (f.fd_flags & CKPT_FILE_PATH_TOO_LONG) != 0);
    w.end_object();
}

}  // namespace ckpt
