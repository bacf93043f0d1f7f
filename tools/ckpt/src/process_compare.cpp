#include "process_compare.h"

#include <algorithm>
#include <map>
#include <string>

#include "format_util.h"
#include "image_format.h"

namespace ckpt {
namespace {

class Differences {
public:
    explicit Differences(LiveCompareResult* result) : result_(result) {}

    template <typename T>
    void check(const std::string& what, const T& image, const T& now, const std::string& image_text,
               const std::string& now_text) {
        if (image == now) return;
        result_->process_differences++;
        if (result_->problems.size() < 40)
            result_->problems.push_back(what + " is " + now_text + ", the image has " + image_text);
    }
    void number(const std::string& what, uint64_t image, uint64_t now) {
        check(what, image, now, std::to_string(image), std::to_string(now));
    }
    void signed_number(const std::string& what, int64_t image, int64_t now) {
        check(what, image, now, std::to_string(image), std::to_string(now));
    }
    void mask(const std::string& what, uint64_t image, uint64_t now) { check(what, image, now, hex(image), hex(now)); }
    void text(const std::string& what, const std::string& image, const std::string& now) {
        check(what, image, now, "'" + image + "'", "'" + now + "'");
    }
    void warn(const std::string& message) {
        if (result_->warnings.size() < 40) result_->warnings.push_back(message);
    }
    void missing(const std::string& message) {
        result_->process_differences++;
        if (result_->problems.size() < 40) result_->problems.push_back(message);
    }

private:
    LiveCompareResult* result_;
};

const char* const kIdNames[4] = {"real", "effective", "saved", "filesystem"};

void compare_ids(const ckpt_process& image, const ckpt_process& now, Differences& d) {
    d.signed_number("pid", image.pid, now.pid);
    d.signed_number("pid in its own namespace", image.ns_pid, now.ns_pid);
    d.signed_number("parent pid", image.ppid, now.ppid);
    d.signed_number("process group", image.pgid, now.pgid);
    d.signed_number("session", image.sid, now.sid);
    d.number("exit signal", image.exit_signal, now.exit_signal);
    for (int i = 0; i < 4; i++) {
        d.number(std::string(kIdNames[i]) + " uid", image.uid[i], now.uid[i]);
        d.number(std::string(kIdNames[i]) + " gid", image.gid[i], now.gid[i]);
    }
    d.mask("inheritable capabilities", image.cap_inheritable, now.cap_inheritable);
    d.mask("permitted capabilities", image.cap_permitted, now.cap_permitted);
    d.mask("effective capabilities", image.cap_effective, now.cap_effective);
    d.mask("bounding capabilities", image.cap_bset, now.cap_bset);
    d.mask("ambient capabilities", image.cap_ambient, now.cap_ambient);
    d.number("no_new_privs", image.flags & CKPT_PROCESS_NO_NEW_PRIVS, now.flags & CKPT_PROCESS_NO_NEW_PRIVS);
    d.check("umask", image.umask, now.umask, octal(image.umask, 4), octal(now.umask, 4));
}

void compare_signals(const ckpt_process& image, const ProcessSnapshot& now, Differences& d) {
    uint64_t ignored = 0, caught = 0;
    for (int i = 0; i < CKPT_NR_SIGNALS; i++) {
        const uint64_t handler = image.action[i].handler;
        if (handler == 1) ignored |= uint64_t(1) << i;
        if (handler > 1) caught |= uint64_t(1) << i;
    }
    d.mask("ignored signals (SigIgn)", ignored, now.sig_ignored);
    d.mask("caught signals (SigCgt)", caught, now.sig_caught);
    d.mask("process-wide pending signals (ShdPnd)", image.sig_pending, now.fixed.sig_pending);
}

void compare_limits(const ckpt_process& image, const ckpt_process& now, Differences& d) {
    for (int i = 0; i < CKPT_NR_RLIMITS; i++) {
        d.number("limit " + std::string(rlimit_name(i)) + " (soft)", image.rlim[i][0], now.rlim[i][0]);
        d.number("limit " + std::string(rlimit_name(i)) + " (hard)", image.rlim[i][1], now.rlim[i][1]);
    }
}

void compare_paths(const ProcessRecord& image, const ProcessSnapshot& now, Differences& d) {
    const uint32_t flags = image.process.flags;
    if (!(flags & CKPT_PROCESS_EXE_TOO_LONG)) d.text("executable", image.exe, now.exe);
    if (!(flags & CKPT_PROCESS_CWD_TOO_LONG)) d.text("working directory", image.cwd, now.cwd);
    if (!(flags & CKPT_PROCESS_ROOT_TOO_LONG)) d.text("root directory", image.root, now.root);
}

void compare_auxv_and_groups(const ProcessRecord& image, const ProcessSnapshot& now, Differences& d) {
    if (image.auxv != now.auxv) {
        size_t i = 0;
        while (i < image.auxv.size() && i < now.auxv.size() && image.auxv[i] == now.auxv[i]) i++;
        d.missing("auxiliary vector differs from /proc/PID/auxv at word " + std::to_string(i) + " (" +
                  std::to_string(image.auxv.size()) + " words in the image, " + std::to_string(now.auxv.size()) +
                  " now)");
    }
    std::vector<uint32_t> a = image.groups, b = now.groups;
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    if (a != b)
        d.missing("supplementary groups differ: " + std::to_string(a.size()) + " in the image, " +
                  std::to_string(b.size()) + " now");
}

void compare_file(const FileRecord& image, const FileSnapshot& now, Differences& d) {
    const ckpt_file& f = image.file;
    const std::string who = "fd " + std::to_string(f.fd) + ": ";
    d.check(who + "kind", f.kind, now.file.kind, file_kind_name(f.kind), file_kind_name(now.file.kind));
    d.check(who + "flags", f.f_flags, now.file.f_flags, octal(f.f_flags), octal(now.file.f_flags));
    if (now.cloexec_known)
        d.number(who + "close-on-exec", f.fd_flags & CKPT_FILE_CLOEXEC, now.file.fd_flags & CKPT_FILE_CLOEXEC);
    d.number(who + "offset", f.pos, now.file.pos);
    d.number(who + "inode", f.ino, now.file.ino);
    d.mask(who + "device", f.dev, now.file.dev);
    d.check(who + "mode", f.mode, now.file.mode, octal(f.mode), octal(now.file.mode));
    // The file's, not the process's: anyone may grow it since the dump.
    if (f.size != now.file.size)
        d.warn(who + "size is " + std::to_string(now.file.size) + ", the image has " + std::to_string(f.size) +
               " (the file changed since the dump)");
    d.mask(who + "rdev", f.rdev, now.file.rdev);
    if (!(f.fd_flags & CKPT_FILE_PATH_TOO_LONG)) d.text(who + "path", image.path, now.path);
}

void compare_files(const std::vector<FileRecord>& image, const std::vector<FileSnapshot>& now, Differences& d) {
    std::map<uint32_t, const FileSnapshot*> open;
    for (const FileSnapshot& s : now) open[s.file.fd] = &s;
    for (const FileRecord& r : image) {
        auto it = open.find(r.file.fd);
        if (it == open.end()) {
            d.missing("fd " + std::to_string(r.file.fd) + " of the image is not open in the process");
            continue;
        }
        compare_file(r, *it->second, d);
        open.erase(it);
    }
    for (const auto& [fd, s] : open)
        d.missing("fd " + std::to_string(fd) + " (" + s->path + ") of the process is not in the image");
}

}  // namespace

void compare_process(const ProcessRecord* process, const std::vector<FileRecord>& files, const ProcessSnapshot& now,
                     LiveCompareResult* result) {
    if (!process) return;  // a 1.0 image
    Differences d(result);
    const ckpt_process& image = process->process;
    compare_ids(image, now.fixed, d);
    if (now.personality_known) d.mask("personality", image.personality, now.fixed.personality);
    compare_signals(image, now, d);
    compare_limits(image, now.fixed, d);
    compare_paths(*process, now, d);
    compare_auxv_and_groups(*process, now, d);
    compare_files(files, now.files, d);
    result->process_compared = true;
}

}  // namespace ckpt
