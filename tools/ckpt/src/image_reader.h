// Streaming, validating reader for ckpt images.
//
// The reader makes one sequential pass, holding at most one PAGES record's
// metadata and one page in memory, and checks every rule of <linux/ckpt.h>:
// alignment, zero padding, record order, checksums (CRC-32C or XXH64, as
// HEAD says: record_checksum.h), page placement and the TAIL totals and
// CRC-32C chain.  Records are handed to an ImageVisitor as they pass.
#pragma once

#include <linux/ckpt.h>

#include <cstdint>
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "byte_source.h"
#include "expected.h"

namespace ckpt {

struct VmaRecord {
    uint64_t offset = 0;  // stream offset of the record header
    ckpt_vma vma{};
    std::string name;     // without the trailing NUL
};

struct PagesRecord {
    uint64_t offset = 0;
    ckpt_pages pages{};
    std::vector<uint64_t> addrs;
};

struct ThreadRecord {
    uint64_t offset = 0;
    ckpt_thread thread{};
    std::vector<uint8_t> xstate;  // thread.xstate_size bytes of FPU state
};

struct VdsoRecord {
    uint64_t offset = 0;
    ckpt_vdso vdso{};
    std::vector<uint8_t> bytes;  // vdso.size bytes: the [vdso] mapping's contents
};

// Format 1.4: a queue of pending signals, the process's (tid 0) or a
// thread's.
struct SigQueueRecord {
    uint64_t offset = 0;
    ckpt_sigqueue queue{};
    std::vector<std::array<uint8_t, CKPT_SIGINFO_SIZE>> infos;  // queue.nr siginfo_t, in order
};

struct ProcessRecord {
    uint64_t offset = 0;
    ckpt_process process{};
    std::vector<uint64_t> auxv;    // process.nr_auxv words
    std::vector<uint32_t> groups;
    std::string exe, cwd, root;    // without the NUL; empty if none
};

struct FileRecord {
    uint64_t offset = 0;
    ckpt_file file{};
    std::string path;  // without the NUL
};

struct LdtRecord {
    uint64_t offset = 0;
    ckpt_ldt ldt{};
    std::vector<uint64_t> entries;  // raw 8-byte descriptors
};

struct ImageSummary {
    ckpt_head head{};
    ckpt_tail tail{};
    uint64_t records = 0;  // including HEAD and TAIL
    uint64_t threads = 0;  // THREAD records (format 1.1)
    uint64_t restarts = 0;  // RESTART records (format 1.3)
    uint64_t vdsos = 0;     // VDSO records (format 1.3: at most one)
    uint64_t sigqueues = 0;  // SIGQUEUE records (format 1.4)
    uint64_t processes = 0;  // PROCESS records (format 1.1: one)
    uint64_t files = 0;    // FILE records (format 1.1)
    uint64_t vmas = 0;
    uint64_t pages = 0;
    uint64_t bytes = 0;    // whole stream, TAIL included
};

// Callbacks run after the record's checksum and structure were checked,
// except on_pages/on_page: page contents are streamed, so they run before
// the PAGES record's checksum is known.  A bad one still fails read().
class ImageVisitor {
public:
    virtual ~ImageVisitor() = default;
    virtual void on_head(const ckpt_head&) {}
    virtual void on_task(const ckpt_task&) {}
    virtual void on_process(const ProcessRecord&) {}
    virtual void on_thread(const ThreadRecord&) {}
    // Format 1.3: the wait of the thread on_thread() gave last.
    virtual void on_restart(const ckpt_restart&) {}
    // Format 1.4: after PROCESS (tid 0), or after a thread's THREAD and RESTART.
    virtual void on_sigqueue(const SigQueueRecord&) {}
    virtual void on_file(const FileRecord&) {}
    virtual void on_vdso(const VdsoRecord&) {}
    virtual void on_mm(const ckpt_mm&) {}
    virtual void on_vma(const VmaRecord&) {}
    virtual void on_pages(const PagesRecord&) {}
    virtual void on_page(uint64_t /*addr*/, const uint8_t* /*data*/, size_t /*page_size*/) {}
    virtual void on_ldt(const LdtRecord&) {}
    virtual void on_unknown(uint32_t /*type*/, uint64_t /*offset*/, uint64_t /*len*/) {}
    virtual void on_tail(const ckpt_tail&) {}
};

// Where read_until_mm() stopped: everything a restorer needs to hand the
// rest of the stream to the module (CKPT_IOC_RESTORE).
struct ImagePrelude {
    ImageSummary summary;   // of the records before MM
    uint64_t mm_offset = 0; // stream offset of MM's header
    ckpt_rec_hdr mm_hdr{};  // that header, already consumed
    uint32_t chain_state = 0;  // TAIL's CRC chain so far (not inverted)
};

class ImageReader {
public:
    explicit ImageReader(ByteSource& source);
    ~ImageReader();
    ImageReader(const ImageReader&) = delete;
    ImageReader& operator=(const ImageReader&) = delete;

    // Reads the whole stream.  Format errors name the record and its stream
    // offset; Io errors come from the source.  Call once.
    Expected<ImageSummary> read(ImageVisitor& visitor);
    // Reads and checks the records before MM, then MM's header, and stops:
    // the source has given no byte past that header if it gives no more
    // than is asked of it (see RecordSource in restore_input.h).
    Expected<ImagePrelude> read_until_mm(ImageVisitor& visitor);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ckpt
