// `ckpt show`: print an image's contents, as text or JSON, while validating
// it with the same reader as `ckpt verify`.
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "format_util.h"
#include "vdso_proxy.h"
#include "image_format.h"
#include "image_input.h"
#include "image_reader.h"
#include "json.h"
#include "record_checksum.h"
#include "show_process.h"

namespace ckpt {
namespace {

// The fields of a queued siginfo_t that kill(2), tgkill(2) and sigqueue(3)
// fill (x86-64 offsets).
struct SigInfoFields {
    int32_t signo, code, pid;
    uint32_t uid;
    uint64_t value;
};

SigInfoFields siginfo_fields(const uint8_t* info) {
    SigInfoFields f{};
    std::memcpy(&f.signo, info, 4);
    std::memcpy(&f.code, info + 8, 4);
    std::memcpy(&f.pid, info + 16, 4);
    std::memcpy(&f.uid, info + 20, 4);
    std::memcpy(&f.value, info + 24, 8);
    return f;
}

// "signal_queue": the siginfos of a SIGQUEUE record (format 1.4).
void write_sigqueue_json(JsonWriter& w, const SigQueueRecord& q) {
    w.key("signal_queue");
    w.begin_object();
    w.field("queued", q.queue.queued);
    w.key("siginfo");
    w.begin_array();
    for (const auto& info : q.infos) {
        const SigInfoFields f = siginfo_fields(info.data());
        w.begin_object();
        w.field("signo", f.signo);
        w.field("code", f.code);
        w.field("pid", f.pid);
        w.field("uid", f.uid);
        w.field("value", hex(f.value));
        w.end_object();
    }
    w.end_array();
    w.end_object();
}

struct VmaInfo {
    VmaRecord record;
    uint64_t pages = 0;
    std::vector<uint64_t> page_addrs;  // only with --pages
};

struct UnknownRecord {
    uint32_t type;
    uint64_t offset;
    uint64_t len;
};

const char* restart_kind_name(uint32_t kind) {
    switch (kind) {
    case CKPT_RESTART_SLEEP: return "sleep";
    case CKPT_RESTART_POLL: return "poll";
    case CKPT_RESTART_FUTEX: return "futex wait";
    default: return "wait of unknown kind";
    }
}

std::string thread_flags_string(const ckpt_thread& t) {
    std::string s;
    if (t.flags & CKPT_THREAD_LEADER) s += ", leader";
    if (t.flags & CKPT_THREAD_IN_SYSCALL) s += ", in syscall " + std::to_string(t.syscall_nr);
    if (t.flags & CKPT_THREAD_RUNNING) s += ", running (state may be torn)";
    return s;
}

std::string head_flags_string(uint32_t flags) {
    std::string s = hex(flags);
    if (flags & CKPT_IMAGE_LIVE) s += " (live)";
    return s;
}

// Label as /proc/PID/maps would print it for an unnamed mapping.
std::string vma_label(const VmaInfo& v, const std::optional<ckpt_mm>& mm) {
    if (!v.record.name.empty()) return v.record.name;
    const ckpt_vma& m = v.record.vma;
    if (m.vm_flags & CKPT_VMA_F_NAME_TOO_LONG) return "(a path longer than 4095 bytes)";
    if (!mm) return "";
    if (m.start <= mm->brk && m.end >= mm->start_brk) return "[heap]";
    if (m.start <= mm->start_stack && m.end >= mm->start_stack) return "[stack]";
    return "";
}

// /proc/PID/maps shows file offsets only for mappings of a file.
uint64_t vma_file_offset(const ckpt_vma& m, uint32_t page_size) {
    if (m.kind == CKPT_VMA_ANON || m.kind == CKPT_VMA_SPECIAL) return 0;
    return m.pgoff * page_size;
}

// Collects the image; text mode prints each part as soon as it is complete
// so that a damaged image still shows everything before the damage.
class ShowVisitor final : public ImageVisitor {
public:
    explicit ShowVisitor(const ShowOptions& options) : options_(options) {}

    void on_head(const ckpt_head& h) override {
        head_ = h;
        if (options_.json) return;
        std::printf("image:    format %u.%u, %s, page size %u, flags %s, checksum %s\n", h.major, h.minor,
                    arch_name(h.arch).c_str(), h.page_size, head_flags_string(h.flags).c_str(),
                    checksum_name(image_checksum(h)).c_str());
        std::printf("kernel:   %s\n", fixed_cstring(h.release, sizeof h.release).c_str());
        std::printf("time:     %s\n", utc_time_string(h.time_ns).c_str());
    }

    void on_task(const ckpt_task& t) override {
        task_ = t;
        if (options_.json) return;
        std::printf("task:     pid %d, tid %d, comm \"%s\", %u thread%s, %s\n", t.pid, t.tid,
                    fixed_cstring(t.comm, sizeof t.comm).c_str(), t.nr_threads, t.nr_threads == 1 ? "" : "s",
                    task_state_name(t.state).c_str());
    }

    void on_process(const ProcessRecord& r) override {
        if (options_.json)
            process_ = r;
        else
            print_process(r);
    }

    void on_file(const FileRecord& r) override {
        if (options_.json)
            files_.push_back(r);
        else
            print_file(r);
    }

    void on_thread(const ThreadRecord& r) override {
        const ckpt_thread& t = r.thread;
        if (options_.json) {
            threads_.push_back(t);
            return;
        }
        std::printf("thread:   tid %d (%d in its namespace)%s, rip %s, rsp %s, fpu %u bytes (xfeatures %s)\n",
                    t.tid, t.ns_tid, thread_flags_string(t).c_str(), hex(t.regs[kRegRip]).c_str(),
                    hex(t.regs[kRegRsp]).c_str(), t.xstate_size, hex(t.xfeatures).c_str());
    }

    void on_restart(const ckpt_restart& r) override {
        if (options_.json) {
            restarts_.push_back(r);
            return;
        }
        std::printf("          in a timed %s, %s left%s\n", restart_kind_name(r.kind), seconds_string(double(r.remaining_ns) / 1e9).c_str(),
                    r.kind == CKPT_RESTART_SLEEP ? (", clock " + std::to_string(r.clockid)).c_str() : "");
    }

    void on_sigqueue(const SigQueueRecord& q) override {
        if (options_.json) {
            sigqueues_.push_back(q);
            return;
        }
        std::string list;
        for (const auto& info : q.infos) {
            const SigInfoFields f = siginfo_fields(info.data());
            list += (list.empty() ? "" : ", ") + std::to_string(f.signo) + " (code " + std::to_string(f.code) +
                    ", pid " + std::to_string(f.pid) + ")";
        }
        std::printf("%s%u queued: %s%s\n", q.queue.tid ? "          signals " : "signals:  the process's, ", q.queue.queued,
                    list.c_str(), q.queue.queued > q.queue.nr ? ", ..." : "");
    }

    void on_vdso(const VdsoRecord& v) override {
        auto syms = vdso_symbols(v.bytes.data(), v.bytes.size());
        if (options_.json) {
            vdso_ = v.vdso;
            vdso_entries_ = syms ? syms->size() : 0;
            return;
        }
        std::printf("vdso:     %s bytes at %s, %s\n", std::to_string(v.vdso.size).c_str(), hex(v.vdso.start).c_str(),
                    syms ? (std::to_string(syms->size()) + " entry points").c_str()
                         : ("not readable: " + syms.error().message).c_str());
    }

    void on_mm(const ckpt_mm& m) override {
        mm_ = m;
        if (options_.json) return;
        std::printf("mm:       code %s-%s, data %s-%s, brk %s-%s, stack %s\n", hex(m.start_code).c_str(),
                    hex(m.end_code).c_str(), hex(m.start_data).c_str(), hex(m.end_data).c_str(),
                    hex(m.start_brk).c_str(), hex(m.brk).c_str(), hex(m.start_stack).c_str());
        std::printf("          args %s-%s, env %s-%s, map_count %u\n", hex(m.arg_start).c_str(),
                    hex(m.arg_end).c_str(), hex(m.env_start).c_str(), hex(m.env_end).c_str(), m.map_count);
        if (head_ && head_->minor >= 1)
            std::printf("          coredump_filter %s%s%s, raw flags %s\n", hex(m.mm_flags & CKPT_MM_DUMP_FILTER).c_str(),
                        (m.mm_flags & CKPT_MM_THP_DISABLE) ? ", THP disabled" : "",
                        (m.mm_flags & CKPT_MM_MDWE) ? ", memory-deny-write-execute" : "", hex(m.raw_flags).c_str());
        else
            std::printf("          raw flags %s\n", hex(m.raw_flags).c_str());
        std::printf("vmas:\n");
    }

    void on_vma(const VmaRecord& v) override {
        flush_vma();
        current_ = VmaInfo{v, 0, {}};
    }

    void on_pages(const PagesRecord& p) override {
        if (!current_) return;
        current_->pages += p.addrs.size();
        if (options_.pages) current_->page_addrs.insert(current_->page_addrs.end(), p.addrs.begin(), p.addrs.end());
    }

    void on_ldt(const LdtRecord& l) override {
        flush_vma();
        ldt_ = l;
        if (!options_.json) std::printf("ldt:      %u entr%s\n", l.ldt.nr, l.ldt.nr == 1 ? "y" : "ies");
    }

    void on_unknown(uint32_t type, uint64_t offset, uint64_t len) override {
        unknown_.push_back({type, offset, len});
        if (options_.json) return;
        char note[128];
        std::snprintf(note, sizeof note, "    (skipped unknown record type %u at offset %llu, %llu bytes)\n", type,
                      static_cast<unsigned long long>(offset), static_cast<unsigned long long>(len));
        // Keep stream order: a VMA line waiting for its page count comes first.
        if (current_)
            pending_notes_ += note;
        else
            std::fputs(note, stdout);
    }

    void on_tail(const ckpt_tail& t) override {
        flush_vma();
        tail_ = t;
        if (!options_.json)
            std::printf("tail:     %llu records before it, at offset %llu, %llu VMAs, %llu pages, crc chain %s\n",
                        static_cast<unsigned long long>(t.nr_records), static_cast<unsigned long long>(t.bytes),
                        static_cast<unsigned long long>(t.nr_vmas), static_cast<unsigned long long>(t.nr_pages),
                        hex(t.crc).c_str());
    }

    // Text mode: prints the VMA still waiting for its PAGES count.
    void finish_partial() { flush_vma(); }

    std::string json() const;

private:
    void flush_vma() {
        if (!current_) return;
        if (options_.json) {
            vmas_.push_back(std::move(*current_));
        } else {
            print_vma_line(*current_);
            print_pending_notes();
        }
        current_.reset();
    }

    void print_vma_line(const VmaInfo& v) const {
        const ckpt_vma& m = v.record.vma;
        const uint32_t ps = head_ ? head_->page_size : 4096;
        std::string label = vma_label(v, mm_);
        // Beyond what the perms column says: locked, dontdump, hugepage, ...
        constexpr uint64_t kShownInPerms = CKPT_VMA_F_READ | CKPT_VMA_F_WRITE | CKPT_VMA_F_EXEC | CKPT_VMA_F_SHARED |
                                           CKPT_VMA_F_MAYREAD | CKPT_VMA_F_MAYWRITE | CKPT_VMA_F_MAYEXEC |
                                           CKPT_VMA_F_MAYSHARE;
        const std::string flags = vma_flags_string(m.vm_flags & kKnownVmaFlags & ~kShownInPerms);
        std::printf("%08llx-%08llx %s %08llx %s %llu  %s  pages=%llu%s%s%s%s\n", static_cast<unsigned long long>(m.start),
                    static_cast<unsigned long long>(m.end), perms_string(m.vm_flags).c_str(),
                    static_cast<unsigned long long>(vma_file_offset(m, ps)), dev_string(m.dev).c_str(),
                    static_cast<unsigned long long>(m.ino), vma_kind_name(m.kind).c_str(),
                    static_cast<unsigned long long>(v.pages), label.empty() ? "" : "  ", label.c_str(),
                    flags.empty() ? "" : "  flags=", flags.c_str());
        for (uint64_t addr : v.page_addrs) std::printf("    %s\n", hex(addr).c_str());
    }

    void print_pending_notes() {
        std::fputs(pending_notes_.c_str(), stdout);
        pending_notes_.clear();
    }

    const ShowOptions& options_;
    std::optional<ckpt_head> head_;
    std::optional<ckpt_task> task_;
    std::optional<ckpt_mm> mm_;
    std::vector<ckpt_thread> threads_;  // JSON mode only
    std::vector<ckpt_restart> restarts_;  // JSON mode only
    std::vector<SigQueueRecord> sigqueues_;  // JSON mode only
    std::optional<ckpt_vdso> vdso_;       // JSON mode only
    size_t vdso_entries_ = 0;
    std::optional<ProcessRecord> process_;  // JSON mode only
    std::vector<FileRecord> files_;         // JSON mode only
    std::optional<VmaInfo> current_;
    std::vector<VmaInfo> vmas_;  // JSON mode only
    std::optional<LdtRecord> ldt_;
    std::vector<UnknownRecord> unknown_;
    std::string pending_notes_;  // text mode: notes to print after the current VMA
    std::optional<ckpt_tail> tail_;
};

std::string ShowVisitor::json() const {
    JsonWriter w;
    w.begin_object();
    if (head_) {
        const ckpt_head& h = *head_;
        w.key("head");
        w.begin_object();
        w.field("major", h.major);
        w.field("minor", h.minor);
        w.field("arch", h.arch);
        w.field("arch_name", arch_name(h.arch));
        w.field("page_size", h.page_size);
        w.field("flags", h.flags);
        w.field("live", (h.flags & CKPT_IMAGE_LIVE) != 0);
        w.field("time_ns", h.time_ns);
        w.field("time", utc_time_string(h.time_ns));
        w.field("release", fixed_cstring(h.release, sizeof h.release));
        // Of the records after HEAD ("crc32c" for images before 1.2).
        w.field("checksum", checksum_name(image_checksum(h)));
        w.end_object();
    }
    if (task_) {
        const ckpt_task& t = *task_;
        w.key("task");
        w.begin_object();
        w.field("pid", t.pid);
        w.field("tid", t.tid);
        w.field("comm", fixed_cstring(t.comm, sizeof t.comm));
        w.field("threads", t.nr_threads);
        w.field("state", task_state_name(t.state));
        w.end_object();
    }
    if (process_) {
        w.key("process");
        write_process_json(w, *process_);
    }
    for (const SigQueueRecord& q : sigqueues_)
        if (q.queue.tid == 0) write_sigqueue_json(w, q);
    if (!threads_.empty()) {
        w.key("threads");
        w.begin_array();
        for (const ckpt_thread& t : threads_) {
            w.begin_object();
            w.field("tid", t.tid);
            w.field("ns_tid", t.ns_tid);
            w.field("leader", (t.flags & CKPT_THREAD_LEADER) != 0);
            w.field("in_syscall", (t.flags & CKPT_THREAD_IN_SYSCALL) != 0);
            w.field("syscall_nr", t.syscall_nr);
            w.field("running", (t.flags & CKPT_THREAD_RUNNING) != 0);
            w.key("regs");
            w.begin_object();
            for (int i = 0; i < CKPT_THREAD_NR_REGS; i++) w.field(thread_register_name(i), hex(t.regs[i]));
            w.end_object();
            w.field("sig_blocked", hex(t.sig_blocked));
            w.field("sig_pending", hex(t.sig_pending));
            w.field("sas_ss_sp", hex(t.sas_ss_sp));
            w.field("sas_ss_size", t.sas_ss_size);
            w.field("sas_ss_flags", t.sas_ss_flags);
            w.field("rseq", hex(t.rseq));
            w.field("rseq_len", t.rseq_len);
            w.field("rseq_sig", hex(t.rseq_sig));
            w.field("robust_list", hex(t.robust_list));
            w.field("clear_child_tid", hex(t.clear_child_tid));
            w.key("tls");
            w.begin_array();
            for (uint64_t d : t.tls) w.value(hex(d));
            w.end_array();
            w.field("xfeatures", hex(t.xfeatures));
            w.field("xstate_size", t.xstate_size);
            for (const SigQueueRecord& q : sigqueues_)
                if (q.queue.tid == t.tid) write_sigqueue_json(w, q);
            for (const ckpt_restart& r : restarts_) {
                if (r.tid != t.tid) continue;
                w.key("restart");
                w.begin_object();
                w.field("kind", restart_kind_name(r.kind));
                w.field("remaining_ns", r.remaining_ns);
                w.field("clockid", r.clockid);
                w.field("rmtp", hex(r.rmtp));
                w.end_object();
            }
            w.end_object();
        }
        w.end_array();
    }
    if (vdso_) {
        w.key("vdso");
        w.begin_object();
        w.field("start", hex(vdso_->start));
        w.field("size", vdso_->size);
        w.field("entry_points", uint64_t(vdso_entries_));
        w.end_object();
    }
    if (process_) {
        // Every descriptor: an empty array says the process had none.
        w.key("files");
        w.begin_array();
        for (const FileRecord& f : files_) write_file_json(w, f);
        w.end_array();
    }
    if (mm_) {
        const ckpt_mm& m = *mm_;
        w.key("mm");
        w.begin_object();
        const std::pair<const char*, uint64_t> fields[] = {
            {"start_code", m.start_code}, {"end_code", m.end_code},     {"start_data", m.start_data},
            {"end_data", m.end_data},     {"start_brk", m.start_brk},   {"brk", m.brk},
            {"start_stack", m.start_stack}, {"arg_start", m.arg_start}, {"arg_end", m.arg_end},
            {"env_start", m.env_start},   {"env_end", m.env_end},       {"raw_flags", m.raw_flags},
        };
        for (const auto& [name, value] : fields) w.field(name, hex(value));
        w.field("map_count", m.map_count);
        w.field("mm_flags", hex(m.mm_flags));
        w.field("coredump_filter", hex(m.mm_flags & CKPT_MM_DUMP_FILTER));
        w.field("thp_disabled", (m.mm_flags & CKPT_MM_THP_DISABLE) != 0);
        w.end_object();
    }
    w.key("vmas");
    w.begin_array();
    const uint32_t ps = head_ ? head_->page_size : 4096;
    for (const VmaInfo& v : vmas_) {
        const ckpt_vma& m = v.record.vma;
        w.begin_object();
        w.field("start", hex(m.start));
        w.field("end", hex(m.end));
        w.field("prot", perms_string(m.vm_flags));
        w.field("vm_flags", hex(m.vm_flags));
        w.field("flags", vma_flags_string(m.vm_flags & kKnownVmaFlags));
        w.field("page_prot", hex(m.page_prot));
        w.field("pgoff", m.pgoff);
        w.field("offset", hex(vma_file_offset(m, ps)));
        w.field("kind", vma_kind_name(m.kind));
        w.field("name", v.record.name);
        w.field("label", vma_label(v, mm_));
        w.field("ino", m.ino);
        w.field("dev", dev_string(m.dev));
        w.field("pages", v.pages);
        if (options_.pages) {
            w.key("page_addrs");
            w.begin_array();
            for (uint64_t addr : v.page_addrs) w.value(hex(addr));
            w.end_array();
        }
        w.end_object();
    }
    w.end_array();
    if (ldt_) {
        w.key("ldt");
        w.begin_object();
        w.field("entry_size", ldt_->ldt.entry_size);
        w.field("nr", ldt_->ldt.nr);
        w.key("entries");
        w.begin_array();
        for (uint64_t e : ldt_->entries) {
            char descriptor[24];
            std::snprintf(descriptor, sizeof descriptor, "0x%016llx", static_cast<unsigned long long>(e));
            w.value(descriptor);
        }
        w.end_array();
        w.end_object();
    }
    if (!unknown_.empty()) {
        w.key("unknown_records");
        w.begin_array();
        for (const auto& u : unknown_) {
            w.begin_object();
            w.field("type", u.type);
            w.field("offset", u.offset);
            w.field("len", u.len);
            w.end_object();
        }
        w.end_array();
    }
    if (tail_) {
        const ckpt_tail& t = *tail_;
        w.key("tail");
        w.begin_object();
        w.field("nr_records", t.nr_records);
        w.field("bytes", t.bytes);
        w.field("nr_vmas", t.nr_vmas);
        w.field("nr_pages", t.nr_pages);
        w.field("crc", hex(t.crc));
        w.end_object();
    }
    w.end_object();
    return w.str();
}

}  // namespace

int run_show(const ShowOptions& options) {
    auto input = ImageInput::open(options.input);
    if (!input) {
        print_error(input.error().message);
        return exit_code_for(input.error());
    }
    FdSource source(input->fd(), input->name());
    ImageReader reader(source);
    ShowVisitor visitor(options);
    auto summary = reader.read(visitor);
    if (!summary) {
        if (!options.json) visitor.finish_partial();
        std::fflush(stdout);
        print_error(input->name() + ": " + summary.error().message);
        return exit_code_for(summary.error());
    }
    if (options.json) std::fputs(visitor.json().c_str(), stdout);
    if (std::fflush(stdout) != 0) {
        print_error("stdout: write failed");
        return kExitSystem;
    }
    return kExitOk;
}

}  // namespace ckpt
