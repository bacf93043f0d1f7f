#include "live_compare.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "format_util.h"
#include "image_format.h"

namespace ckpt {
namespace {

constexpr size_t kPagemapChunkEntries = 8192;  // 64 KiB of pagemap per read
constexpr uint64_t kProblemsPerCategory = 5;

bool all_zero(const uint8_t* p, size_t n) {
    return std::all_of(p, p + n, [](uint8_t b) { return b == 0; });
}

std::string range_string(uint64_t start, uint64_t end) { return hex(start) + "-" + hex(end); }

std::string describe(const ProcVma& v) {
    std::string s = range_string(v.start, v.end);
    if (!v.name.empty()) s += " " + v.name;
    return s;
}

// VM_IO, VM_PFNMAP and VM_MIXEDMAP show up as "io", "pf" and "mm" in smaps.
bool is_special_proc_vma(const ProcVma& v) {
    return is_special_mapping_name(v.name) || v.has_vm_flag("io") || v.has_vm_flag("pf") || v.has_vm_flag("mm");
}

// The format's kind for a process VMA the image does not describe.
uint32_t guess_kind(const ProcVma& v) {
    if (is_special_proc_vma(v)) return CKPT_VMA_SPECIAL;
    if (v.perms.size() == 4 && v.perms[3] == 's') return CKPT_VMA_SHARED;
    if (v.inode != 0 || (!v.name.empty() && v.name[0] == '/')) return CKPT_VMA_FILE;
    return CKPT_VMA_ANON;
}

ExcludedRanges rseq_ranges(const RseqAreas& rseq) {
    std::vector<ByteRange> ranges;
    for (const RseqArea& a : rseq.areas) ranges.push_back({a.start, a.start + a.size});
    return ExcludedRanges(std::move(ranges));
}

}  // namespace

bool is_special_mapping_name(const std::string& name) {
    return name == "[vvar]" || name == "[vvar_vclock]" || name == "[vdso]" || name == "[vsyscall]" ||
           name == "[uprobes]";
}

Expected<std::unique_ptr<LiveComparer>> LiveComparer::create(pid_t pid, const RseqAreas& rseq) {
    const uint64_t page_size = uint64_t(::sysconf(_SC_PAGESIZE));
    auto mem = ProcFile::open(pid, "mem");
    if (!mem) return mem.error();
    auto pagemap = ProcFile::open(pid, "pagemap");
    if (!pagemap) return pagemap.error();
    auto vmas = read_smaps(pid);
    if (!vmas) return vmas.error();

    std::vector<ResidentPage> resident;
    std::vector<uint64_t> entries(kPagemapChunkEntries);
    for (const ProcVma& v : *vmas) {
        // Rss and Swap of 0 mean nothing to find (zero pages are not in Rss
        // and would be accepted anyway); this skips huge reservations.
        if (is_special_proc_vma(v) || (v.rss_kb == 0 && v.swap_kb == 0)) continue;
        for (uint64_t page = v.start / page_size; page < v.end / page_size;) {
            const size_t n = size_t(std::min<uint64_t>(kPagemapChunkEntries, v.end / page_size - page));
            ssize_t got = pagemap->read_at(entries.data(), n * 8, page * 8);
            if (got < 0)
                return io_error(pagemap->path() + ": read at " + hex(page * page_size) + ": " + std::strerror(int(-got)));
            const size_t got_entries = size_t(got) / 8;
            for (size_t i = 0; i < got_entries; i++)
                if (entries[i] & (kPagemapPresent | kPagemapSwapped))
                    resident.push_back({(page + i) * page_size, entries[i]});
            if (got_entries < n) break;  // past the end of the address space
            page += n;
        }
    }
    return std::unique_ptr<LiveComparer>(
        new LiveComparer(pid, std::move(*mem), std::move(*vmas), std::move(resident), page_size, rseq));
}

LiveComparer::LiveComparer(pid_t pid, ProcFile mem, std::vector<ProcVma> vmas, std::vector<ResidentPage> resident,
                           uint64_t page_size, const RseqAreas& rseq)
    : pid_(pid),
      mem_(std::move(mem)),
      proc_vmas_(std::move(vmas)),
      resident_(std::move(resident)),
      page_size_(page_size),
      excluded_(rseq_ranges(rseq)),
      buf_(page_size) {
    result_.rseq_threads = rseq.areas.size();
    result_.rseq_unknown_reason = rseq.unknown_reason;
}

void LiveComparer::note(uint64_t* counter, std::string message) {
    if (++*counter <= kProblemsPerCategory) result_.problems.push_back(std::move(message));
}

void LiveComparer::on_head(const ckpt_head& head) {
    live_image_ = head.flags & CKPT_IMAGE_LIVE;
    if (head.page_size == page_size_) return;
    page_size_mismatch_ = true;
    note(&result_.content_mismatches, "image page size " + std::to_string(head.page_size) +
                                          " differs from this system's " + std::to_string(page_size_) +
                                          ": pages not compared");
}

void LiveComparer::on_task(const ckpt_task& task) {
    // Pids differ legitimately across pid namespaces, so only a warning.
    if (task.pid != pid_ && task.tid != pid_)
        result_.warnings.push_back("the image was taken of pid " + std::to_string(task.pid) + ", not " +
                                   std::to_string(pid_));
}

void LiveComparer::on_vma(const VmaRecord& vma) { image_vmas_.push_back(vma); }

void LiveComparer::on_page(uint64_t addr, const uint8_t* data, size_t page_size) {
    image_pages_.push_back(addr);
    if (page_size_mismatch_) return;
    result_.pages_compared++;
    ssize_t got = mem_.read_at(buf_.data(), page_size, addr);
    if (got != ssize_t(page_size)) {
        const char* why = got < 0 ? std::strerror(int(-got)) : "short read";
        note(&result_.content_mismatches, "page " + hex(addr) + ": cannot read " + mem_.path() + ": " + why);
        return;
    }
    const PageComparison c = compare_page(addr, data, buf_.data(), page_size, excluded_);
    result_.rseq_bytes_excluded += c.excluded_bytes;
    result_.rseq_bytes_differed += c.excluded_differing;
    if (c.matches) {
        result_.pages_matched++;
        return;
    }
    note(&result_.content_mismatches,
         "page " + hex(addr) + " differs from the process (first difference at +" + hex(c.first_difference) + ")");
}

LiveCompareResult LiveComparer::finish() {
    check_vmas();
    check_residency();
    return result_;
}

void LiveComparer::check_vmas() {
    auto proc_by_start = [this](uint64_t start) {
        return std::lower_bound(proc_vmas_.begin(), proc_vmas_.end(), start,
                                [](const ProcVma& v, uint64_t s) { return v.start < s; });
    };
    for (const VmaRecord& iv : image_vmas_) {
        const ckpt_vma& m = iv.vma;
        const std::string what = "image VMA " + range_string(m.start, m.end) + (iv.name.empty() ? "" : " " + iv.name);
        auto it = proc_by_start(m.start);
        if (it == proc_vmas_.end() || it->start != m.start || it->end != m.end) {
            // Name the process VMA that overlaps, if any, to show the drift.
            auto overlap = std::find_if(proc_vmas_.begin(), proc_vmas_.end(),
                                        [&](const ProcVma& v) { return v.start < m.end && v.end > m.start; });
            note(&result_.vma_differences, what + (overlap == proc_vmas_.end()
                                                       ? " is not mapped in the process"
                                                       : " does not match the process VMA " + describe(*overlap)));
            continue;
        }
        const std::string perms = perms_string(m.vm_flags);
        if (perms != it->perms)
            note(&result_.vma_differences, what + ": image perms " + perms + ", process " + it->perms);
        // Every flag the format defines against smaps' VmFlags mnemonics.
        if (!it->vm_flags.empty()) {
            std::string image_only, process_only;
            for (const VmaFlagName& f : kVmaFlagNames) {
                if (!f.smaps) continue;
                const bool in_image = m.vm_flags & f.flag;
                if (in_image == it->has_vm_flag(f.smaps)) continue;
                std::string& list = in_image ? image_only : process_only;
                list += (list.empty() ? "" : ",") + std::string(f.name);
            }
            if (!image_only.empty() || !process_only.empty())
                note(&result_.vma_differences, what + ": flags " + (image_only.empty() ? "" : image_only + " only in the image") +
                                                    (image_only.empty() || process_only.empty() ? "" : ", ") +
                                                    (process_only.empty() ? "" : process_only + " only in the process"));
        }
        if (m.kind != CKPT_VMA_SPECIAL && m.ino != 0 && m.ino != it->inode)
            note(&result_.vma_differences,
                 what + ": image inode " + std::to_string(m.ino) + ", process " + std::to_string(it->inode));
        if (m.kind != CKPT_VMA_SPECIAL && m.dev != 0 &&
            (dev_major(m.dev) != it->dev_major || dev_minor(m.dev) != it->dev_minor))
            note(&result_.vma_differences, what + ": image device " + dev_string(m.dev) + ", process " +
                                                dev_string(it->dev_major, it->dev_minor));
    }
    for (const ProcVma& pv : proc_vmas_) {
        // The vsyscall page is not a VMA of the mm, just shown in maps.
        if (pv.name == "[vsyscall]") continue;
        auto it = std::lower_bound(image_vmas_.begin(), image_vmas_.end(), pv.start,
                                   [](const VmaRecord& v, uint64_t s) { return v.vma.start < s; });
        if (it == image_vmas_.end() || it->vma.start != pv.start || it->vma.end != pv.end)
            note(&result_.vma_differences, "process VMA " + describe(pv) + " is not in the image");
    }
}

bool LiveComparer::page_is_zero(uint64_t addr) {
    ssize_t got = mem_.read_at(buf_.data(), page_size_, addr);
    return got == ssize_t(page_size_) && all_zero(buf_.data(), page_size_);
}

void LiveComparer::check_residency() {
    if (page_size_mismatch_) return;
    size_t r = 0;
    for (const ProcVma& pv : proc_vmas_) {
        while (r < resident_.size() && resident_[r].addr < pv.start) r++;
        auto image_it = std::lower_bound(image_vmas_.begin(), image_vmas_.end(), pv.start,
                                         [](const VmaRecord& v, uint64_t s) { return v.vma.start < s; });
        const bool in_image = image_it != image_vmas_.end() && image_it->vma.start == pv.start &&
                              image_it->vma.end == pv.end;
        const uint32_t kind = in_image ? image_it->vma.kind : guess_kind(pv);
        if (kind == CKPT_VMA_SPECIAL || is_special_proc_vma(pv)) continue;

        for (; r < resident_.size() && resident_[r].addr < pv.end; r++) {
            const uint64_t addr = resident_[r].addr;
            const uint64_t entry = resident_[r].entry;
            const bool dumped = std::binary_search(image_pages_.begin(), image_pages_.end(), addr);
            const bool file_page = entry & kPagemapFileOrSharedAnon;
            const bool present = entry & kPagemapPresent;
            const std::string where = "page " + hex(addr) + " of " + vma_kind_name(kind) + " VMA " + describe(pv);
            if (kind == CKPT_VMA_FILE && file_page) {
                // Clean page-cache page of a private file mapping.
                if (dumped)
                    note(&result_.extra_clean_file_pages, where + " is a clean file page but is in the image");
                else
                    result_.clean_file_pages_skipped++;
            } else if (!dumped) {
                // The zero page looks present and anonymous in pagemap; only
                // its contents tell it apart (PFNs need CAP_SYS_ADMIN).
                if (present && !file_page && page_is_zero(addr))
                    result_.zero_pages_accepted++;
                else
                    note(&result_.missing_pages,
                         where + " is " + (present ? "present" : "swapped out") + " but missing from the image");
            }
        }
    }
    // Dumped pages pagemap did not list: harmless (e.g. shmem swapped out),
    // and their contents were compared already.
    size_t j = 0;
    for (uint64_t addr : image_pages_) {
        while (j < resident_.size() && resident_[j].addr < addr) j++;
        if (j == resident_.size() || resident_[j].addr != addr) result_.dumped_not_resident++;
    }
}

}  // namespace ckpt
