#include "image_builder.h"

#include <cstring>

#include "crc32c.h"
#include "record_checksum.h"

namespace ckpt::test {
namespace {

template <typename T>
std::vector<uint8_t> as_bytes(const T& value) {
    std::vector<uint8_t> out(sizeof value);
    std::memcpy(out.data(), &value, sizeof value);
    return out;
}

void append_le64(std::vector<uint8_t>& out, uint64_t v) {
    for (int i = 0; i < 8; i++) out.push_back(uint8_t(v >> (8 * i)));
}

}  // namespace

ImageWriter::ImageWriter(uint32_t page_size)
    : page_size_(page_size), chain_state_(kCrc32cInit), checksum_(CKPT_CSUM_CRC32C) {}

ckpt_head ImageWriter::default_head(uint32_t page_size, uint8_t checksum) {
    ckpt_head h{};
    std::memcpy(h.magic, CKPT_IMAGE_MAGIC, 8);
    h.major = CKPT_FORMAT_MAJOR;
    h.minor = CKPT_FORMAT_MINOR;
    h.arch = CKPT_ARCH_X86_64;
    h.page_size = page_size;
    h.time_ns = 1714566896123456789ull;
    std::strcpy(h.release, "6.1.0-test");
    h.checksum = checksum;
    return h;
}

uint64_t ImageWriter::record(uint32_t type, const std::vector<uint8_t>& payload, const RecordTweaks& tweaks) {
    const uint64_t offset = bytes_.size();
    ckpt_rec_hdr hdr{};
    hdr.type = type;
    hdr.flags = tweaks.flags;
    hdr.len = uint64_t(int64_t(payload.size()) + tweaks.len_delta);
    hdr.reserved = tweaks.reserved;
    hdr.crc = record_crc(checksum_, hdr, payload.data(), payload.size()) ^ tweaks.crc_xor;
    auto h = as_bytes(hdr);
    bytes_.insert(bytes_.end(), h.begin(), h.end());
    bytes_.insert(bytes_.end(), payload.begin(), payload.end());
    while (bytes_.size() % 8) bytes_.push_back(tweaks.nonzero_padding ? 0xFF : 0);
    if (type != CKPT_REC_TAIL) {
        const uint8_t le[4] = {uint8_t(hdr.crc), uint8_t(hdr.crc >> 8), uint8_t(hdr.crc >> 16), uint8_t(hdr.crc >> 24)};
        chain_state_ = crc32c_update(chain_state_, le, 4);
    }
    records_++;
    return offset;
}

uint64_t ImageWriter::head(const ckpt_head& head, const RecordTweaks& tweaks) {
    if (records_ != 0) return record(CKPT_REC_HEAD, as_bytes(head), tweaks);
    checksum_ = CKPT_CSUM_CRC32C;  // HEAD's own
    const uint64_t offset = record(CKPT_REC_HEAD, as_bytes(head), tweaks);
    checksum_ = image_checksum(head);
    return offset;
}

uint64_t ImageWriter::task(const ckpt_task& task, const RecordTweaks& tweaks) {
    const uint64_t offset = record(CKPT_REC_TASK, as_bytes(task), tweaks);
    // As the module: PROCESS, then a THREAD record per thread, the leader first.
    process(sample_process(task.pid));
    for (uint32_t i = 0; i < task.nr_threads; i++) thread(sample_thread(task.pid + int32_t(i), i == 0));
    return offset;
}

namespace {

// resize + memcpy rather than insert: GCC 12 -Wstringop-overflow misfires on it.
void append(std::vector<uint8_t>& out, const void* data, size_t len) {
    if (len == 0) return;
    const size_t at = out.size();
    out.resize(at + len);
    std::memcpy(out.data() + at, data, len);
}

uint32_t path_len(const std::string& path) { return path.empty() ? 0 : uint32_t(path.size() + 1); }

}  // namespace

uint64_t ImageWriter::process(const SampleProcess& p, const RecordTweaks& tweaks) {
    ckpt_process fixed = p.fixed;
    fixed.nr_auxv = uint32_t(p.auxv.size());
    fixed.nr_groups = uint32_t(p.groups.size());
    fixed.exe_len = path_len(p.exe);
    fixed.cwd_len = path_len(p.cwd);
    fixed.root_len = path_len(p.root);
    std::vector<uint8_t> payload;
    append(payload, &fixed, sizeof fixed);
    append(payload, p.auxv.data(), p.auxv.size() * 8);
    append(payload, p.groups.data(), p.groups.size() * 4);
    for (const std::string* path : {&p.exe, &p.cwd, &p.root})
        if (!path->empty()) append(payload, path->c_str(), path->size() + 1);
    return record(CKPT_REC_PROCESS, payload, tweaks);
}

uint64_t ImageWriter::file(const ckpt_file& f, const std::string& path, const RecordTweaks& tweaks) {
    ckpt_file fixed = f;
    fixed.path_len = path_len(path);
    std::vector<uint8_t> payload;
    append(payload, &fixed, sizeof fixed);
    if (!path.empty()) append(payload, path.c_str(), path.size() + 1);
    return record(CKPT_REC_FILE, payload, tweaks);
}

SampleProcess sample_process(int32_t pid) {
    // Strings constructed, not assigned: GCC 12 -Wrestrict misfires on it.
    SampleProcess p{{}, {6, 4096, 0, 0}, {4, 24}, "/usr/bin/target", "/home/user", "/"};  // AT_PAGESZ, AT_NULL
    p.fixed.pid = pid;
    p.fixed.ns_pid = pid;
    p.fixed.ppid = 1;
    p.fixed.pgid = pid;
    p.fixed.sid = pid;
    p.fixed.umask = 022;
    p.fixed.cap_bset = (1ull << 41) - 1;
    p.fixed.dumpable = 1;
    p.fixed.exit_signal = 17;
    for (auto& limit : p.fixed.rlim) limit[0] = limit[1] = ~0ull;
    p.fixed.rlim[7][0] = 1024;  // RLIMIT_NOFILE
    p.fixed.rlim[7][1] = 4096;
    p.fixed.action[9].handler = 0x401230;  // SIGUSR1
    p.fixed.action[9].flags = 0x14000004;  // SA_RESTORER | SA_RESTART | SA_SIGINFO
    p.fixed.action[9].restorer = 0x7f0000001000;
    p.fixed.action[12].handler = 1;        // SIGPIPE ignored
    return p;
}

uint64_t ImageWriter::thread(const ckpt_thread& t, const std::vector<uint8_t>& xstate, const RecordTweaks& tweaks) {
    std::vector<uint8_t> payload(sizeof t + xstate.size());
    std::memcpy(payload.data(), &t, sizeof t);
    if (!xstate.empty()) std::memcpy(payload.data() + sizeof t, xstate.data(), xstate.size());
    return record(CKPT_REC_THREAD, payload, tweaks);
}

uint64_t ImageWriter::thread(const ckpt_thread& t, const RecordTweaks& tweaks) {
    return thread(t, std::vector<uint8_t>(t.xstate_size, 0x42), tweaks);
}

ckpt_thread sample_thread(int32_t tid, bool leader) {
    ckpt_thread t{};
    t.tid = tid;
    t.ns_tid = tid;
    t.flags = leader ? CKPT_THREAD_LEADER : 0;
    t.syscall_nr = -1;
    t.regs[16] = 0x401000 + uint64_t(tid);  // rip
    t.regs[19] = 0x7ffc00000000 + uint64_t(tid) * 0x1000;  // rsp
    t.regs[17] = 0x33;  // cs: __USER_CS
    t.regs[20] = 0x2b;  // ss: __USER_DS
    t.xfeatures = 7;
    t.xstate_size = 832;
    return t;
}

uint64_t ImageWriter::mm(const ckpt_mm& mm, const RecordTweaks& tweaks) {
    return record(CKPT_REC_MM, as_bytes(mm), tweaks);
}

uint64_t ImageWriter::vma(const ckpt_vma& vma, const std::string& name, const RecordTweaks& tweaks) {
    ckpt_vma v = vma;
    v.name_len = name.empty() ? 0 : uint32_t(name.size() + 1);
    // resize + memcpy rather than insert: GCC 12 -Warray-bounds misfires on it.
    std::vector<uint8_t> payload(sizeof v + v.name_len, 0);
    std::memcpy(payload.data(), &v, sizeof v);
    if (!name.empty()) std::memcpy(payload.data() + sizeof v, name.data(), name.size());
    vmas_++;
    return record(CKPT_REC_VMA, payload, tweaks);
}

uint64_t ImageWriter::pages(const std::vector<uint64_t>& addrs, const std::vector<std::vector<uint8_t>>& contents,
                            const PagesTweaks& pt, const RecordTweaks& tweaks) {
    const uint64_t offset = bytes_.size();
    const uint64_t min_off = 16 + 8 * addrs.size();
    // Smallest data_off that puts the page data on a page-aligned stream offset.
    uint64_t data_start = offset + 24 + min_off;
    data_start = (data_start + page_size_ - 1) / page_size_ * page_size_;
    const uint64_t data_off = uint64_t(int64_t(data_start - offset - 24) + pt.data_off_delta);

    ckpt_pages hdr{};
    hdr.nr = pt.nr_override >= 0 ? uint32_t(pt.nr_override) : uint32_t(addrs.size());
    hdr.reserved = pt.reserved;
    hdr.data_off = data_off;
    auto payload = as_bytes(hdr);
    for (uint64_t a : addrs) append_le64(payload, a);
    while (payload.size() < data_off) payload.push_back(pt.nonzero_gap ? 0xAB : 0);
    for (const auto& page : contents) payload.insert(payload.end(), page.begin(), page.end());
    pages_ += addrs.size();
    return record(CKPT_REC_PAGES, payload, tweaks);
}

uint64_t ImageWriter::ldt(const std::vector<uint64_t>& entries, const RecordTweaks& tweaks) {
    ckpt_ldt l{};
    l.entry_size = 8;
    l.nr = uint32_t(entries.size());
    auto payload = as_bytes(l);
    for (uint64_t e : entries) append_le64(payload, e);
    return record(CKPT_REC_LDT, payload, tweaks);
}

uint64_t ImageWriter::tail(const TailTweaks& tt, const RecordTweaks& tweaks) {
    ckpt_tail t{};
    t.nr_records = uint64_t(int64_t(records_) + tt.records_delta);
    t.bytes = uint64_t(int64_t(bytes_.size()) + tt.bytes_delta);
    t.nr_vmas = uint64_t(int64_t(vmas_) + tt.vmas_delta);
    t.nr_pages = uint64_t(int64_t(pages_) + tt.pages_delta);
    t.crc = crc32c_final(chain_state_) ^ tt.crc_xor;
    t.reserved = tt.reserved;
    return record(CKPT_REC_TAIL, as_bytes(t), tweaks);
}

std::vector<uint8_t> pattern_page(uint64_t addr, uint32_t page_size) {
    std::vector<uint8_t> page(page_size);
    uint64_t x = addr * 0x9E3779B97F4A7C15ull + 1;
    for (auto& b : page) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b = uint8_t(x);
    }
    return page;
}

SampleImage make_sample_image(const SampleOptions& options) {
    SampleImage s;
    ImageWriter w(s.page_size);
    const uint32_t ps = s.page_size;
    ckpt_head head = ImageWriter::default_head(ps, options.checksum);
    head.minor = options.minor;
    w.head(head);

    ckpt_task task{};
    task.pid = 4242;
    task.tid = 4242;
    task.nr_threads = 2;
    task.state = CKPT_TASK_STOPPED;
    std::strcpy(task.comm, "sample");
    s.task_offset = w.task(task);

    ckpt_mm mm{};
    mm.start_code = 0x400000;
    mm.end_code = 0x401000;
    mm.start_data = 0x403000;
    mm.end_data = 0x404000;
    mm.start_brk = 0x1000000;
    mm.brk = 0x1005000;
    mm.start_stack = 0x7ffc00010000;
    mm.map_count = 4;
    s.mm_offset = w.mm(mm);

    ckpt_vma heap{};
    heap.start = 0x1000000;
    heap.end = 0x1008000;
    heap.vm_flags = 0x1 | 0x2 | 0x10 | 0x20 | 0x40;
    heap.page_prot = 0x8000000000000025ull;
    heap.pgoff = heap.start / ps;
    heap.kind = CKPT_VMA_ANON;
    s.heap_vma_offset = w.vma(heap, "");
    if (options.after_heap_vma) options.after_heap_vma(w);

    std::vector<uint64_t> first = {0x1000000, 0x1001000, 0x1003000};
    std::vector<std::vector<uint8_t>> first_data;
    for (uint64_t a : first) first_data.push_back(pattern_page(a, ps));
    s.first_pages_offset = w.pages(first, first_data);
    s.first_page_data_offset = (s.first_pages_offset + 24 + 16 + 8 * first.size() + ps - 1) / ps * ps;
    std::vector<uint64_t> second = {0x1004000, 0x1007000};
    std::vector<std::vector<uint8_t>> second_data;
    for (uint64_t a : second) second_data.push_back(pattern_page(a, ps));
    s.second_pages_offset = w.pages(second, second_data);

    // Unknown record types are skipped by readers but still checksummed.
    w.record(99, std::vector<uint8_t>(13, 0x5A));

    ckpt_vma file{};
    file.start = 0x7f0000000000;
    file.end = 0x7f0000003000;
    file.vm_flags = 0x1 | 0x2 | 0x10 | 0x20 | 0x40;
    file.pgoff = 2;
    file.kind = CKPT_VMA_FILE;
    file.ino = 123456;
    file.dev = (8 << 8) | 1;
    s.file_vma_offset = w.vma(file, "/usr/lib/libsample.so.1");
    w.pages({0x7f0000001000}, {pattern_page(0x7f0000001000, ps)});

    ckpt_vma shared{};
    shared.start = 0x7f0000010000;
    shared.end = 0x7f0000012000;
    shared.vm_flags = 0x1 | 0x2 | 0x8 | 0x80;
    shared.kind = CKPT_VMA_SHARED;
    shared.ino = 99;
    w.vma(shared, "/dev/zero (deleted)");
    w.pages({0x7f0000011000}, {std::vector<uint8_t>(ps, 0)});

    ckpt_vma vdso{};
    vdso.start = 0x7ffc00100000;
    vdso.end = 0x7ffc00102000;
    vdso.vm_flags = 0x1 | 0x4;
    vdso.kind = CKPT_VMA_SPECIAL;
    w.vma(vdso, "[vdso]");

    if (!options.skip_ldt) s.ldt_offset = w.ldt({0x00cf9a000000ffffull});
    if (!options.skip_tail) s.tail_offset = w.tail(options.tail);

    s.bytes = w.bytes();
    s.records = w.nr_records();
    s.vmas = 4;
    s.pages = w.nr_pages();
    return s;
}

}  // namespace ckpt::test
