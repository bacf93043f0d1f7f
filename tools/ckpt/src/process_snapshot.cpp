#include "process_snapshot.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "procfs.h"

namespace ckpt {
namespace {

constexpr uint32_t kOCloexec = 02000000;  // x86-64

std::string proc_path(pid_t pid, const std::string& name) { return "/proc/" + std::to_string(pid) + "/" + name; }

// readlink(2) of a /proc link; empty if it cannot be read.
std::string read_link(const std::string& path) {
    std::vector<char> buf(4096);
    for (;;) {
        const ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
        if (n < 0) return {};
        if (size_t(n) < buf.size()) return std::string(buf.data(), size_t(n));
        if (buf.size() >= (1u << 20)) return {};
        buf.resize(buf.size() * 2);
    }
}

// "Key:\tvalue" lines into (key, value).
std::vector<std::pair<std::string, std::string>> key_values(const std::string& text) {
    std::vector<std::pair<std::string, std::string>> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        const size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        size_t v = colon + 1;
        while (v < line.size() && (line[v] == ' ' || line[v] == '\t')) v++;
        out.emplace_back(line.substr(0, colon), line.substr(v));
    }
    return out;
}

std::vector<std::string> words(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> out;
    std::string w;
    while (in >> w) out.push_back(w);
    return out;
}

bool parse_number(const std::string& s, int base, uint64_t* out) {
    if (s.empty()) return false;
    errno = 0;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s.c_str(), &end, base);
    if (errno != 0 || *end != '\0') return false;
    *out = v;
    return true;
}

bool parse_signed(const std::string& s, int32_t* out) {
    uint64_t v = 0;
    if (!s.empty() && s[0] == '-') {
        if (!parse_number(s.substr(1), 10, &v)) return false;
        *out = -int32_t(v);
        return true;
    }
    if (!parse_number(s, 10, &v)) return false;
    *out = int32_t(v);
    return true;
}

bool parse_four(const std::string& value, uint32_t out[4]) {
    const auto w = words(value);
    if (w.size() != 4) return false;
    for (int i = 0; i < 4; i++) {
        uint64_t v = 0;
        if (!parse_number(w[size_t(i)], 10, &v)) return false;
        out[i] = uint32_t(v);
    }
    return true;
}

bool read_stat_ids(pid_t pid, ProcessSnapshot* out) {
    auto text = read_text_file(proc_path(pid, "stat"));
    if (!text) return false;
    const size_t close = text->rfind(')');
    if (close == std::string::npos) return false;
    const auto f = words(text->substr(close + 1));  // f[0] is field 3
    auto field = [&](size_t number, int32_t* v) { return number - 3 < f.size() && parse_signed(f[number - 3], v); };
    int32_t exit_signal = 0;
    if (!field(5, &out->fixed.pgid) || !field(6, &out->fixed.sid) || !field(38, &exit_signal)) return false;
    out->fixed.exit_signal = uint32_t(exit_signal);
    return true;
}

void read_auxv(pid_t pid, const std::string& name, ProcessSnapshot* out) {
    auto file = ProcFile::open(pid, name.c_str());
    if (!file) return;
    uint64_t words[2];
    for (uint64_t off = 0; file->read_at(words, sizeof words, off) == ssize_t(sizeof words); off += sizeof words) {
        out->auxv.push_back(words[0]);
        out->auxv.push_back(words[1]);
        if (words[0] == 0) break;  // AT_NULL
    }
}

void read_files(pid_t pid, const std::string& task, ProcessSnapshot* out) {
    const std::string dir = proc_path(pid, task + "fd");
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    std::vector<uint32_t> fds;
    while (const dirent* e = ::readdir(d)) {
        uint64_t fd = 0;
        if (parse_number(e->d_name, 10, &fd)) fds.push_back(uint32_t(fd));
    }
    ::closedir(d);
    std::sort(fds.begin(), fds.end());
    for (uint32_t fd : fds) {
        FileSnapshot s;
        s.file.fd = fd;
        const std::string link = dir + "/" + std::to_string(fd);
        auto info = read_text_file(proc_path(pid, task + "fdinfo/" + std::to_string(fd)));
        struct stat st {};
        if (!info || ::stat(link.c_str(), &st) != 0) continue;  // closed meanwhile
        s.path = read_link(link);
        uint32_t flags = 0;
        uint64_t pos = 0, ino = st.st_ino;
        if (!parse_fdinfo(*info, &pos, &flags, &ino)) continue;
        s.file.pos = pos;
        // fdinfo adds O_CLOEXEC for a close-on-exec descriptor; f_flags may
        // hold it too, from open(O_CLOEXEC), even after FD_CLOEXEC is cleared.
        s.file.fd_flags = (flags & kOCloexec) ? CKPT_FILE_CLOEXEC : 0;
        s.cloexec_known = !(flags & kOCloexec);
        s.file.f_flags = flags & ~kOCloexec;
        s.file.ino = ino;
        s.file.dev = uint64_t(st.st_dev);
        s.file.size = uint64_t(st.st_size);
        s.file.mode = st.st_mode;
        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) s.file.rdev = uint32_t(st.st_rdev);
        s.file.kind = file_kind_for(st.st_mode, s.path);
        out->files.push_back(std::move(s));
    }
}

}  // namespace

uint32_t file_kind_for(uint32_t mode, const std::string& path) {
    if (path.rfind("anon_inode:", 0) == 0) return CKPT_FILE_ANON;
    switch (mode & S_IFMT) {
    case S_IFREG: return CKPT_FILE_REGULAR;
    case S_IFDIR: return CKPT_FILE_DIRECTORY;
    case S_IFIFO: return CKPT_FILE_FIFO;
    case S_IFSOCK: return CKPT_FILE_SOCKET;
    case S_IFCHR: return CKPT_FILE_CHAR;
    case S_IFBLK: return CKPT_FILE_BLOCK;
    case S_IFLNK: return CKPT_FILE_SYMLINK;
    default: return CKPT_FILE_ANON;
    }
}

bool parse_fdinfo(const std::string& text, uint64_t* pos, uint32_t* flags, uint64_t* ino) {
    bool have_pos = false, have_flags = false;
    for (const auto& [key, value] : key_values(text)) {
        uint64_t v = 0;
        if (key == "pos" && parse_number(value, 10, &v)) {
            *pos = v;
            have_pos = true;
        } else if (key == "flags" && parse_number(value, 8, &v)) {
            *flags = uint32_t(v);
            have_flags = true;
        } else if (key == "ino" && parse_number(value, 10, &v)) {
            *ino = v;
        }
    }
    return have_pos && have_flags;
}

bool parse_status_into(const std::string& text, ProcessSnapshot* out) {
    ckpt_process& p = out->fixed;
    int seen = 0;
    for (const auto& [key, value] : key_values(text)) {
        uint64_t v = 0;
        if (key == "Tgid") {
            int32_t pid = 0;
            if (!parse_signed(value, &pid)) return false;
            p.pid = pid;
            seen++;
        } else if (key == "NStgid") {  // the thread-group id in each namespace
            const auto w = words(value);
            if (w.empty() || !parse_signed(w.back(), &p.ns_pid)) return false;
        } else if (key == "PPid") {
            if (!parse_signed(value, &p.ppid)) return false;
            seen++;
        } else if (key == "Uid") {
            if (!parse_four(value, p.uid)) return false;
            seen++;
        } else if (key == "Gid") {
            if (!parse_four(value, p.gid)) return false;
            seen++;
        } else if (key == "Groups") {
            for (const std::string& g : words(value)) {
                if (!parse_number(g, 10, &v)) return false;
                out->groups.push_back(uint32_t(v));
            }
        } else if (key == "Umask") {
            if (!parse_number(value, 8, &v)) return false;
            p.umask = uint32_t(v);
        } else if (key == "NoNewPrivs") {
            if (!parse_number(value, 10, &v)) return false;
            if (v) p.flags |= CKPT_PROCESS_NO_NEW_PRIVS;
        } else if (key == "ShdPnd" || key == "SigIgn" || key == "SigCgt" || key == "CapInh" || key == "CapPrm" ||
                   key == "CapEff" || key == "CapBnd" || key == "CapAmb") {
            if (!parse_number(value, 16, &v)) return false;
            if (key == "ShdPnd") p.sig_pending = v;
            if (key == "SigIgn") out->sig_ignored = v;
            if (key == "SigCgt") out->sig_caught = v;
            if (key == "CapInh") p.cap_inheritable = v;
            if (key == "CapPrm") p.cap_permitted = v;
            if (key == "CapEff") p.cap_effective = v;
            if (key == "CapBnd") p.cap_bset = v;
            if (key == "CapAmb") p.cap_ambient = v;
        }
    }
    if (p.ns_pid == 0) p.ns_pid = p.pid;  // no NStgid line: no pid namespaces
    return seen == 4;
}

bool parse_limits_into(const std::string& text, ProcessSnapshot* out) {
    // "Limit  Soft Limit  Hard Limit  Units" then one line per RLIMIT_*, in
    // that order; the values start at column 26 (fs/proc/base.c).
    std::istringstream in(text);
    std::string line;
    if (!std::getline(in, line)) return false;
    for (int i = 0; i < CKPT_NR_RLIMITS; i++) {
        if (!std::getline(in, line) || line.size() < 26) return false;
        const auto w = words(line.substr(26));
        if (w.size() < 2) return false;
        for (int j = 0; j < 2; j++) {
            uint64_t v = ~uint64_t(0);
            if (w[size_t(j)] != "unlimited" && !parse_number(w[size_t(j)], 10, &v)) return false;
            out->fixed.rlim[i][j] = v;
        }
    }
    return true;
}

Expected<ProcessSnapshot> read_process_snapshot(pid_t pid) {
    // Through the first live thread, as the module describes the process:
    // a leader that left with pthread_exit() has no mm, fs or files, so its
    // auxv, exe, cwd, root, umask and fd/ are empty.  stat and limits are
    // the process's (exit_signal is the leader's).
    auto threads = read_thread_states(pid);
    if (!threads) return threads.error();
    const std::string task = "task/" + std::to_string(first_live_thread(pid, *threads)) + "/";

    ProcessSnapshot snap;
    auto status = read_text_file(proc_path(pid, task + "status"));
    if (!status) return status.error();
    if (!parse_status_into(*status, &snap)) return io_error(proc_path(pid, task + "status") + ": cannot parse");
    if (!read_stat_ids(pid, &snap)) return io_error(proc_path(pid, "stat") + ": cannot parse");
    auto limits = read_text_file(proc_path(pid, "limits"));
    if (!limits) return limits.error();
    if (!parse_limits_into(*limits, &snap)) return io_error(proc_path(pid, "limits") + ": cannot parse");
    if (auto pers = read_text_file(proc_path(pid, task + "personality"))) {
        uint64_t v = 0;
        std::string text = *pers;
        while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
        snap.personality_known = parse_number(text, 16, &v);
        snap.fixed.personality = uint32_t(v);
    }
    read_auxv(pid, task + "auxv", &snap);
    snap.exe = read_link(proc_path(pid, task + "exe"));
    snap.cwd = read_link(proc_path(pid, task + "cwd"));
    snap.root = read_link(proc_path(pid, task + "root"));
    read_files(pid, task, &snap);
    return snap;
}

}  // namespace ckpt
