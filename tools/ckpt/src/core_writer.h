// `ckpt core`: turns an image, as it streams past, into an ELF core file
// like the one the kernel writes for the process (fs/binfmt_elf.c), so that
// gdb and readelf can open a checkpoint.
//
// Layout: the ELF header, then one PT_LOAD's data per VMA in address order
// (page-aligned, written as the pages arrive; never-written parts stay
// holes), then the PT_NOTE data, then the program headers.  The headers
// go last because the VMA count is known only at the end of a stream.
// Page data is written on a second thread (AsyncPwriter) while the next
// pages are read and checksummed.
#pragma once

#include <linux/ckpt.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "async_pwriter.h"
#include "expected.h"
#include "image_reader.h"

namespace ckpt {

struct CoreSummary {
    uint64_t threads = 0;
    uint64_t segments = 0;           // PT_LOAD headers
    uint64_t image_pages = 0;        // pages taken from the image
    uint64_t file_pages = 0;         // pages of file mappings read from their files
    uint64_t unavailable_pages = 0;  // file pages neither in the image nor readable: zeros
    std::vector<std::string> unavailable_files;  // the first few of those files
    uint64_t bytes = 0;              // size of the core file
};

class CoreWriter final : public ImageVisitor {
public:
    // Writes into fd (a regular file, opened for writing, empty).
    explicit CoreWriter(int fd) : fd_(fd), writer_(fd) {}

    void on_head(const ckpt_head& head) override;
    void on_task(const ckpt_task& task) override { task_ = task; }
    void on_process(const ProcessRecord& process) override { process_ = process; }
    void on_thread(const ThreadRecord& thread) override { threads_.push_back(thread); }
    void on_mm(const ckpt_mm& mm) override { mm_ = mm; }
    void on_vma(const VmaRecord& vma) override;
    void on_page(uint64_t addr, const uint8_t* data, size_t page_size) override;

    // After the image was read cleanly: the notes, the headers, the size.
    Expected<CoreSummary> finish();

private:
    struct Segment {
        VmaRecord vma;
        uint64_t offset = 0;  // in the core
        uint64_t filesz = 0;
        uint64_t nr_dumped = 0;        // pages from the image
        std::vector<uint64_t> dumped;  // their addresses, where the file fills the rest
    };

    void flush_pending();
    void end_segment();
    void fill_from_file(Segment& s);
    void write_elf_header_page(Segment& s);
    void write_at(const void* data, size_t len, uint64_t offset);
    std::vector<uint8_t> notes() const;

    int fd_;
    AsyncPwriter writer_;
    uint32_t page_size_ = 4096;
    ckpt_task task_{};
    std::optional<ProcessRecord> process_;
    std::vector<ThreadRecord> threads_;
    std::optional<ckpt_mm> mm_;
    std::vector<Segment> segments_;
    bool open_segment_ = false;
    uint64_t cursor_ = 0;  // where the next segment's data goes
    std::string psargs_;   // bytes of [arg_start, arg_end) seen so far
    std::vector<uint8_t> pending_;  // contiguous pages not yet submitted
    bool have_buffer_ = false;      // pending_ is one of writer_'s buffers
    uint64_t pending_at_ = 0;       // their offset in the core
    CoreSummary summary_;
    std::optional<Error> error_;  // the first write that failed
};

}  // namespace ckpt
