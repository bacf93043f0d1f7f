// `ckpt verify --pid`: compare an image with the (stopped) live process.
//
// Three checks: every dumped page equals /proc/PID/mem, except for the bytes
// of the threads' rseq areas, which the kernel rewrites on its own; every
// page the process has resident or swapped is in the image unless the format
// says it is skipped (clean file pages, zero pages); the image's VMAs are
// exactly the process's VMAs.  Page residency comes from /proc/PID/pagemap,
// snapshotted before any /proc/PID/mem read can fault pages in.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "expected.h"
#include "image_reader.h"
#include "masked_compare.h"
#include "procfs.h"
#include "rseq_areas.h"

namespace ckpt {

struct LiveCompareResult {
    uint64_t pages_compared = 0;
    uint64_t pages_matched = 0;
    uint64_t content_mismatches = 0;    // differ from, or unreadable in, /proc/PID/mem
    uint64_t missing_pages = 0;         // resident/swapped with data, not in the image
    uint64_t extra_clean_file_pages = 0;  // clean page-cache pages that were dumped
    uint64_t zero_pages_accepted = 0;
    uint64_t clean_file_pages_skipped = 0;
    uint64_t dumped_not_resident = 0;   // informational: dumped but absent from pagemap
    uint64_t vma_differences = 0;
    uint64_t threads_compared = 0;      // THREAD records checked against ptrace
    uint64_t thread_mismatches = 0;     // registers or FPU state differ, or a thread is missing
    bool process_compared = false;      // PROCESS and FILE records checked against /proc
    uint64_t process_differences = 0;   // fields of either that differ from /proc
    // Left out of the content comparison: each thread's rseq area.
    uint64_t rseq_threads = 0;          // threads with an area registered
    uint64_t rseq_bytes_excluded = 0;   // bytes of compared pages inside the areas
    uint64_t rseq_bytes_differed = 0;   // of those, the ones that differed
    std::string rseq_unknown_reason;    // why nothing was left out, if so
    // The first few problems of each category, ready to print.
    std::vector<std::string> problems;
    // Worth saying, not failing over (e.g. the image names another pid).
    std::vector<std::string> warnings;

    bool ok() const {
        return content_mismatches == 0 && missing_pages == 0 && extra_clean_file_pages == 0 &&
               vma_differences == 0 && thread_mismatches == 0 && process_differences == 0;
    }
};

class LiveComparer final : public ImageVisitor {
public:
    // Opens /proc/PID/{mem,pagemap,smaps} and snapshots page residency.
    // The target should be stopped already.  The bytes of the rseq areas
    // are not compared.
    static Expected<std::unique_ptr<LiveComparer>> create(pid_t pid, const RseqAreas& rseq = {});

    void on_head(const ckpt_head& head) override;
    void on_task(const ckpt_task& task) override;
    void on_process(const ProcessRecord& process) override { process_ = process; }
    void on_thread(const ThreadRecord& thread) override { threads_.push_back(thread); }
    void on_file(const FileRecord& file) override { files_.push_back(file); }
    void on_vma(const VmaRecord& vma) override;
    void on_page(uint64_t addr, const uint8_t* data, size_t page_size) override;

    // Runs the residency and VMA checks; call after the image read cleanly.
    LiveCompareResult finish();
    // The image's THREAD records, for compare_threads().
    const std::vector<ThreadRecord>& threads() const { return threads_; }
    // The PROCESS record (null in a 1.0 image) and the FILE records.
    const ProcessRecord* process() const { return process_ ? &*process_ : nullptr; }
    const std::vector<FileRecord>& files() const { return files_; }
    bool live_image() const { return live_image_; }

private:
    struct ResidentPage {
        uint64_t addr;
        uint64_t entry;  // raw pagemap entry
    };

    LiveComparer(pid_t pid, ProcFile mem, std::vector<ProcVma> vmas, std::vector<ResidentPage> resident,
                 uint64_t page_size, const RseqAreas& rseq);

    void note(uint64_t* counter, std::string message);
    void check_vmas();
    void check_residency();
    bool page_is_zero(uint64_t addr);

    pid_t pid_;
    ProcFile mem_;
    std::vector<ProcVma> proc_vmas_;
    std::vector<ResidentPage> resident_;  // ascending addresses
    uint64_t page_size_;
    ExcludedRanges excluded_;
    bool page_size_mismatch_ = false;
    std::vector<VmaRecord> image_vmas_;   // ascending
    std::vector<uint64_t> image_pages_;   // ascending
    std::vector<ThreadRecord> threads_;
    std::optional<ProcessRecord> process_;
    std::vector<FileRecord> files_;
    bool live_image_ = false;
    std::vector<uint8_t> buf_;
    LiveCompareResult result_;
};

// "[vdso]"-style names of mappings the format calls SPECIAL.
bool is_special_mapping_name(const std::string& name);

}  // namespace ckpt
