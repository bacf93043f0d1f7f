#include "fake_dump.h"

#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <sstream>

#include "image_builder.h"
#include "image_format.h"
#include "live_compare.h"
#include "process_snapshot.h"
#include "procfs.h"

namespace ckpt::test {
namespace {

uint32_t kind_of(const ProcVma& v) {
    if (is_special_mapping_name(v.name) || v.has_vm_flag("io") || v.has_vm_flag("pf") || v.has_vm_flag("mm"))
        return CKPT_VMA_SPECIAL;
    if (v.perms[3] == 's') return CKPT_VMA_SHARED;
    if (v.inode != 0 || (!v.name.empty() && v.name[0] == '/')) return CKPT_VMA_FILE;
    return CKPT_VMA_ANON;
}

// As the module translates them: every format flag smaps shows.
uint64_t vm_flags_of(const ProcVma& v) {
    uint64_t f = 0;
    for (const VmaFlagName& name : kVmaFlagNames)
        if (name.smaps && v.has_vm_flag(name.smaps)) f |= name.flag;
    return f;
}

std::vector<std::string> stat_fields(const std::string& task_dir) {
    auto text = read_text_file(task_dir + "stat");
    std::vector<std::string> fields;
    if (!text) return fields;
    std::istringstream in(text->substr(text->rfind(')') + 2));
    std::string f;
    while (in >> f) fields.push_back(f);
    return fields;  // fields[0] is field 3 (state)
}

uint64_t stat_field(const std::vector<std::string>& f, size_t number) {
    return number - 3 < f.size() ? std::stoull(f[number - 3]) : 0;
}

// PTRACE_GETREGSET of a thread this process traces: fills `t`'s registers
// and returns its FPU area; without a ptrace relation, a zeroed area of the
// sample's size.
std::vector<uint8_t> read_thread_registers(pid_t tid, ckpt_thread* t) {
    std::vector<uint8_t> fpu(16384);
    iovec regs{t->regs, sizeof t->regs};
    iovec area{fpu.data(), fpu.size()};
    if (ptrace(PTRACE_GETREGSET, tid, reinterpret_cast<void*>(long(NT_PRSTATUS)), &regs) != 0 ||
        ptrace(PTRACE_GETREGSET, tid, reinterpret_cast<void*>(long(NT_X86_XSTATE)), &area) != 0) {
        std::memset(t->regs, 0, sizeof t->regs);
        fpu.assign(t->xstate_size, 0);
        return fpu;
    }
    fpu.resize(area.iov_len);
    t->xstate_size = uint32_t(area.iov_len);
    std::memcpy(&t->xfeatures, fpu.data() + 464, sizeof t->xfeatures);
    t->syscall_nr = int64_t(t->regs[15]) >= 0 ? int32_t(t->regs[15]) : -1;
    t->flags = (t->flags & CKPT_THREAD_LEADER) | (t->syscall_nr >= 0 ? CKPT_THREAD_IN_SYSCALL : 0);
    return fpu;
}

}  // namespace

Expected<std::vector<uint8_t>> fake_dump(pid_t pid, const FakeDumpOptions& options) {
    const uint32_t ps = uint32_t(sysconf(_SC_PAGESIZE));
    auto threads = read_thread_states(pid);
    if (!threads) return threads.error();
    // The memory as a live thread sees it: a leader that left with
    // pthread_exit() is a zombie without an mm, and its /proc files are
    // empty (the module takes the mm from a live thread too).
    const pid_t live = first_live_thread(pid, *threads);
    const std::string task_path = "task/" + std::to_string(live) + "/";
    const std::string task_dir = "/proc/" + std::to_string(pid) + "/" + task_path;
    auto smaps = read_text_file(task_dir + "smaps");
    if (!smaps) return smaps.error();
    auto vmas = parse_smaps(*smaps);
    if (!vmas) return vmas.error();
    auto mem = ProcFile::open(pid, (task_path + "mem").c_str());
    if (!mem) return mem.error();
    auto pagemap = ProcFile::open(pid, (task_path + "pagemap").c_str());
    if (!pagemap) return pagemap.error();

    ImageWriter w(ps);
    w.head(ImageWriter::default_head(ps, options.checksum));

    ckpt_task task{};
    task.pid = pid;
    task.tid = pid;
    task.nr_threads = uint32_t(threads->size());
    task.state = CKPT_TASK_STOPPED;
    auto comm = read_text_file("/proc/" + std::to_string(pid) + "/comm");
    if (comm) std::strncpy(task.comm, comm->substr(0, comm->find('\n')).c_str(), sizeof task.comm - 1);
    w.record(CKPT_REC_TASK, std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(&task),
                                                 reinterpret_cast<const uint8_t*>(&task + 1)));
    // What /proc shows of the process (the rest of the record stays 0).
    auto now = read_process_snapshot(pid);
    if (!now) return now.error();
    SampleProcess process{now->fixed, now->auxv, now->groups, now->exe, now->cwd, now->root};
    for (int sig = 1; sig <= CKPT_NR_SIGNALS; sig++) {
        const uint64_t bit = uint64_t(1) << (sig - 1);
        if (now->sig_ignored & bit) process.fixed.action[sig - 1].handler = 1;  // SIG_IGN
        if (now->sig_caught & bit) process.fixed.action[sig - 1].handler = 0x401000;  // some handler
    }
    w.process(process);
    // As the module: the leader, then the others by tid; the registers as
    // ptrace gives them when this process traces the target (the CLI does,
    // through the preload), else the sample values.
    std::vector<pid_t> tids;
    for (const ThreadState& t : *threads)
        if (t.state != 'Z' && t.state != 'X' && !t.io_worker && t.tid != pid) tids.push_back(t.tid);
    std::sort(tids.begin(), tids.end());
    if (live == pid || std::any_of(threads->begin(), threads->end(), [&](const ThreadState& t) {
            return t.tid == pid && t.state != 'Z' && t.state != 'X';
        }))
        tids.insert(tids.begin(), pid);
    for (pid_t tid : tids) {
        ckpt_thread t = sample_thread(tid, tid == pid);
        std::vector<uint8_t> fpu = read_thread_registers(tid, &t);
        w.thread(t, fpu);
    }
    for (const FileSnapshot& f : now->files) w.file(f.file, f.path);

    auto f = stat_fields(task_dir);
    ckpt_mm mm{};
    mm.start_code = stat_field(f, 26);
    mm.end_code = stat_field(f, 27);
    mm.start_stack = stat_field(f, 28);
    mm.start_data = stat_field(f, 45);
    mm.end_data = stat_field(f, 46);
    mm.start_brk = stat_field(f, 47);
    mm.arg_start = stat_field(f, 48);
    mm.arg_end = stat_field(f, 49);
    mm.env_start = stat_field(f, 50);
    mm.env_end = stat_field(f, 51);
    for (const auto& v : *vmas)
        if (v.name == "[heap]") mm.brk = v.end;
    mm.map_count = uint32_t(vmas->size());
    w.mm(mm);

    std::vector<uint8_t> page(ps);
    for (const ProcVma& v : *vmas) {
        if (v.name == "[vsyscall]") continue;
        if (options.drop_vma_containing >= v.start && options.drop_vma_containing < v.end) continue;
        const uint32_t kind = kind_of(v);
        ckpt_vma rec{};
        rec.start = v.start;
        rec.end = v.end;
        rec.vm_flags = vm_flags_of(v);
        if (options.flip_vma_flags_at >= v.start && options.flip_vma_flags_at < v.end)
            rec.vm_flags ^= options.flip_vma_flags;
        rec.kind = kind;
        rec.pgoff = kind == CKPT_VMA_ANON ? v.start / ps : v.offset / ps;
        rec.ino = v.inode;
        rec.dev = (v.dev_minor & 0xff) | (v.dev_major << 8) | (uint64_t(v.dev_minor & ~0xffu) << 12);
        const bool named = kind != CKPT_VMA_ANON && !v.name.empty();
        w.vma(rec, named ? v.name : "");
        if (kind == CKPT_VMA_SPECIAL) continue;

        std::vector<uint64_t> addrs;
        std::vector<std::vector<uint8_t>> contents;
        auto flush = [&] {
            if (addrs.empty()) return;
            w.pages(addrs, contents);
            addrs.clear();
            contents.clear();
        };
        for (uint64_t addr = v.start; addr < v.end; addr += ps) {
            uint64_t entry = 0;
            if (pagemap->read_at(&entry, 8, addr / ps * 8) != 8) break;
            const bool present = entry & kPagemapPresent;
            const bool swapped = entry & kPagemapSwapped;
            const bool file_page = entry & kPagemapFileOrSharedAnon;
            if (!present && !swapped) continue;
            if (addr == options.drop_page) continue;
            if (kind == CKPT_VMA_FILE && file_page && !options.include_clean_file_pages) continue;
            if (mem->read_at(page.data(), ps, addr) != ssize_t(ps)) continue;
            // Stand-in for "the zero page is skipped": no PFNs without CAP_SYS_ADMIN.
            if (kind == CKPT_VMA_ANON && present && std::all_of(page.begin(), page.end(), [](uint8_t b) { return !b; }))
                continue;
            addrs.push_back(addr);
            contents.push_back(page);
            if (addrs.size() == options.pages_per_record) flush();
        }
        flush();
    }
    w.ldt({});
    w.tail();
    return w.bytes();
}

}  // namespace ckpt::test
