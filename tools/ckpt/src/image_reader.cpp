#include "image_reader.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "crc32c.h"
#include "format_util.h"
#include "image_format.h"
#include "record_checksum.h"

namespace ckpt {
namespace {

constexpr size_t kInputBufferSize = 256 * 1024;

// Buffered sequential input that knows its stream offset.
class InputStream {
public:
    explicit InputStream(ByteSource& source) : source_(source), buf_(kInputBufferSize) {}

    uint64_t offset() const { return offset_; }

    // Copies up to len bytes; returns fewer only at end of stream.
    Expected<size_t> read(void* dst, size_t len) {
        auto* out = static_cast<uint8_t*>(dst);
        size_t done = 0;
        while (done < len) {
            if (pos_ == end_) {
                Status st = fill();
                if (!st) return st.error();
                if (end_ == 0) break;
            }
            size_t n = std::min(len - done, end_ - pos_);
            std::memcpy(out + done, buf_.data() + pos_, n);
            pos_ += n;
            done += n;
        }
        offset_ += done;
        return done;
    }

    // The next len bytes, in place in the buffer when they are there whole
    // (no copy), else copied into scratch; nullptr at end of stream.
    Expected<const uint8_t*> view(size_t len, uint8_t* scratch) {
        if (end_ - pos_ >= len) {
            const uint8_t* p = buf_.data() + pos_;
            pos_ += len;
            offset_ += len;
            return p;
        }
        auto got = read(scratch, len);
        if (!got) return got.error();
        return *got < len ? nullptr : static_cast<const uint8_t*>(scratch);
    }

    // Skips up to len bytes, feeding them to *sum in place (no copy); fewer
    // only at end of stream.
    Expected<uint64_t> consume(uint64_t len, RecordChecksum* sum) {
        uint64_t done = 0;
        while (done < len) {
            if (pos_ == end_) {
                Status st = fill();
                if (!st) return st.error();
                if (end_ == 0) break;
            }
            size_t n = size_t(std::min<uint64_t>(len - done, end_ - pos_));
            sum->update(buf_.data() + pos_, n);
            pos_ += n;
            done += n;
        }
        offset_ += done;
        return done;
    }

private:
    Status fill() {
        pos_ = end_ = 0;
        auto n = source_.read_some(buf_.data(), buf_.size());
        if (!n) return n.error();
        end_ = *n;
        return ok_status();
    }

    ByteSource& source_;
    std::vector<uint8_t> buf_;
    size_t pos_ = 0;
    size_t end_ = 0;
    uint64_t offset_ = 0;
};

// Where the reader is in HEAD TASK [PROCESS THREAD+ FILE*] MM (VMA PAGES*)*
// LDT TAIL; BeforeMm covers everything between TASK and MM.
enum class Phase { Head, Task, BeforeMm, Vmas, AfterLdt };

struct Record {
    uint64_t offset = 0;
    ckpt_rec_hdr hdr{};
};

std::string where(const Record& rec) {
    return record_type_name(rec.hdr.type) + " record at offset " + std::to_string(rec.offset);
}

bool all_zero(const uint8_t* p, size_t n) {
    return std::all_of(p, p + n, [](uint8_t b) { return b == 0; });
}

template <typename T>
bool all_zero(const T& field) {
    return all_zero(reinterpret_cast<const uint8_t*>(&field), sizeof field);
}

}  // namespace

struct ImageReader::Impl {
    explicit Impl(ByteSource& source) : in(source) {}

    InputStream in;
    ImageVisitor* visitor = nullptr;
    ImageSummary summary;
    Phase phase = Phase::Head;
    // Reserved fields and header flags must be zero in images of this minor
    // or older; a newer minor may have given them a meaning.
    bool strict_reserved = true;
    bool have_vma = false;
    ckpt_vma vma{};
    bool have_page = false;
    uint64_t last_page = 0;
    uint64_t prev_vma_end = 0;
    bool have_ldt = false;
    int64_t last_thread_key = -1;  // the leader is 0, the others their tid
    int32_t last_thread_tid = 0;
    uint32_t last_type = 0;        // of the record before this one
    int64_t last_fd = -1;
    int32_t task_pid = 0;
    uint32_t chain_crc = kCrc32cInit;  // always CRC-32C
    // Of the records after HEAD (HEAD's own is CRC-32C): HEAD's checksum.
    uint32_t checksum = CKPT_CSUM_CRC32C;
    std::vector<uint8_t> page_buf;
    bool stop_at_mm = false;
    std::optional<ImagePrelude> prelude;  // set where stop_at_mm stopped

    Expected<ImageSummary> run();
    Status dispatch(const Record& rec);
    Status handle_head(const Record& rec);
    Status handle_task(const Record& rec);
    Status handle_process(const Record& rec);
    Status handle_thread(const Record& rec);
    Status handle_restart(const Record& rec);
    Status handle_vdso(const Record& rec);
    Status handle_sigqueue(const Record& rec);
    Status handle_file(const Record& rec);
    Status handle_mm(const Record& rec);
    Status handle_vma(const Record& rec);
    Status handle_pages(const Record& rec);
    Status handle_ldt(const Record& rec);
    Status handle_tail(const Record& rec);
    Status handle_unknown(const Record& rec);
    Status read_padding(const Record& rec);
    Status check_end_of_stream();

    struct Payload {
        std::vector<uint8_t> bytes;  // the first min(len, keep) payload bytes
        uint32_t crc = 0;            // final checksum over header and whole payload
    };
    Expected<Payload> read_payload(const Record& rec, size_t keep);
    std::optional<Error> check_crc_and_header(const Record& rec, uint32_t crc) const;
    std::optional<std::string> check_phase(const Record& rec) const;
    std::optional<std::string> check_pages_layout(const Record& rec, const ckpt_pages& pages) const;
    std::optional<std::string> check_page_addrs(const Record& rec, const PagesRecord& pr,
                                                const std::vector<uint8_t>& prefix) const;

    Error truncated_payload(const Record& rec) const {
        return format_error("truncated stream: " + where(rec) + " needs " + std::to_string(rec.hdr.len) +
                            " payload bytes, stream ends at offset " + std::to_string(in.offset()));
    }
};

ImageReader::ImageReader(ByteSource& source) : impl_(std::make_unique<Impl>(source)) {}
ImageReader::~ImageReader() = default;

Expected<ImageSummary> ImageReader::read(ImageVisitor& visitor) {
    impl_->visitor = &visitor;
    return impl_->run();
}

Expected<ImagePrelude> ImageReader::read_until_mm(ImageVisitor& visitor) {
    impl_->visitor = &visitor;
    impl_->stop_at_mm = true;
    auto summary = impl_->run();
    if (!summary) return summary.error();
    if (!impl_->prelude) return format_error("the image has no MM record");
    return *impl_->prelude;
}

Expected<ImageSummary> ImageReader::Impl::run() {
    for (;;) {
        Record rec;
        rec.offset = in.offset();
        auto got = in.read(&rec.hdr, sizeof rec.hdr);
        if (!got) return got.error();
        if (*got == 0) {
            if (phase == Phase::Head) return format_error("empty stream: not a ckpt image");
            return format_error("truncated stream: no TAIL record (stream ends at offset " +
                                std::to_string(rec.offset) + " after " + std::to_string(summary.records) +
                                " records)");
        }
        if (*got < sizeof rec.hdr)
            return format_error("truncated stream: record header at offset " + std::to_string(rec.offset) +
                                " has only " + std::to_string(*got) + " of 24 bytes");
        if (phase == Phase::Head && rec.hdr.type != CKPT_REC_HEAD)
            return format_error("not a ckpt image: first record has type " + std::to_string(rec.hdr.type) +
                                ", expected HEAD (1)");
        // Reject garbage lengths before reading: Documentation/image-format.md
        // bounds every known payload; unknown types get a generous limit.
        uint64_t max_len = kMaxRecordLen;
        if (rec.hdr.type == CKPT_REC_PAGES && phase != Phase::Head)
            max_len = max_pages_payload_len(summary.head.page_size);
        else if (is_known_record_type(rec.hdr.type))
            max_len = kMaxKnownPayloadLen - 1;
        if (rec.hdr.len > max_len)
            return format_error("absurd length " + std::to_string(rec.hdr.len) + " in " + where(rec));

        if (stop_at_mm && rec.hdr.type == CKPT_REC_MM) {
            if (auto e = check_phase(rec)) return format_error(*e);
            if (rec.hdr.flags || rec.hdr.reserved)
                return format_error("nonzero header flags or reserved field in " + where(rec));
            prelude = ImagePrelude{summary, rec.offset, rec.hdr, chain_crc};
            return summary;
        }
        Status st = dispatch(rec);
        if (!st) return st.error();
        last_type = rec.hdr.type;
        st = read_padding(rec);
        if (!st) return st.error();
        summary.records++;

        if (rec.hdr.type == CKPT_REC_TAIL) {
            st = check_end_of_stream();
            if (!st) return st.error();
            summary.bytes = in.offset();
            return summary;
        }
        const uint8_t le[4] = {uint8_t(rec.hdr.crc), uint8_t(rec.hdr.crc >> 8), uint8_t(rec.hdr.crc >> 16),
                               uint8_t(rec.hdr.crc >> 24)};
        chain_crc = crc32c_update(chain_crc, le, sizeof le);
    }
}

Status ImageReader::Impl::dispatch(const Record& rec) {
    switch (rec.hdr.type) {
    case CKPT_REC_HEAD: return handle_head(rec);
    case CKPT_REC_TASK: return handle_task(rec);
    case CKPT_REC_PROCESS: return handle_process(rec);
    case CKPT_REC_THREAD: return handle_thread(rec);
    case CKPT_REC_RESTART: return handle_restart(rec);
    case CKPT_REC_VDSO: return handle_vdso(rec);
    case CKPT_REC_SIGQUEUE: return handle_sigqueue(rec);
    case CKPT_REC_FILE: return handle_file(rec);
    case CKPT_REC_MM: return handle_mm(rec);
    case CKPT_REC_VMA: return handle_vma(rec);
    case CKPT_REC_PAGES: return handle_pages(rec);
    case CKPT_REC_LDT: return handle_ldt(rec);
    case CKPT_REC_TAIL: return handle_tail(rec);
    default: return handle_unknown(rec);
    }
}

Expected<ImageReader::Impl::Payload> ImageReader::Impl::read_payload(const Record& rec, size_t keep) {
    Payload p;
    // Until HEAD was read, `checksum` is CRC-32C: HEAD's own algorithm.
    RecordChecksum sum(checksum);
    sum.update(&rec.hdr, offsetof(ckpt_rec_hdr, crc));
    p.bytes.resize(size_t(std::min<uint64_t>(rec.hdr.len, keep)));
    auto got = in.read(p.bytes.data(), p.bytes.size());
    if (!got) return got.error();
    if (*got < p.bytes.size()) return truncated_payload(rec);
    sum.update(p.bytes.data(), p.bytes.size());
    uint64_t rest = rec.hdr.len - p.bytes.size();
    auto skipped = in.consume(rest, &sum);
    if (!skipped) return skipped.error();
    if (*skipped < rest) return truncated_payload(rec);
    p.crc = sum.value();
    return p;
}

std::optional<Error> ImageReader::Impl::check_crc_and_header(const Record& rec, uint32_t crc) const {
    if (crc != rec.hdr.crc) {
        // Name the algorithm where it is not the usual one.
        const bool xxh64 = checksum == CKPT_CSUM_XXH64 && rec.offset != 0;
        return format_error("bad crc in " + where(rec) + " (stored " + hex(rec.hdr.crc) + ", computed " +
                            hex(crc) + (xxh64 ? " as xxh64" : "") + ")");
    }
    if (strict_reserved && rec.hdr.flags != 0)
        return format_error("nonzero flags " + hex(rec.hdr.flags) + " in " + where(rec));
    if (strict_reserved && rec.hdr.reserved != 0)
        return format_error("nonzero reserved header field in " + where(rec));
    return std::nullopt;
}

std::optional<std::string> ImageReader::Impl::check_phase(const Record& rec) const {
    static const char* const expected_by_phase[] = {"HEAD", "TASK", "", "VMA, PAGES, LDT or TAIL", "TAIL"};
    // Between TASK and MM: PROCESS, then THREADs, then FILEs (format 1.1).
    const bool before_mm = phase == Phase::BeforeMm;
    const bool threads_next = before_mm && summary.files == 0 && summary.vdsos == 0;
    bool ok = false;
    switch (rec.hdr.type) {
    case CKPT_REC_TASK: ok = phase == Phase::Task; break;
    case CKPT_REC_PROCESS: ok = threads_next && summary.threads == 0 && summary.processes == 0; break;
    case CKPT_REC_THREAD: ok = threads_next; break;
    case CKPT_REC_RESTART: ok = threads_next && last_type == CKPT_REC_THREAD; break;
    case CKPT_REC_SIGQUEUE:
        ok = threads_next && (last_type == CKPT_REC_PROCESS || last_type == CKPT_REC_THREAD ||
                              last_type == CKPT_REC_RESTART);
        break;
    case CKPT_REC_FILE: ok = before_mm && summary.threads > 0 && summary.vdsos == 0; break;
    case CKPT_REC_VDSO: ok = before_mm && summary.threads > 0 && summary.vdsos == 0; break;
    case CKPT_REC_MM: ok = before_mm; break;
    case CKPT_REC_VMA:
    case CKPT_REC_LDT: ok = phase == Phase::Vmas; break;
    case CKPT_REC_PAGES: ok = phase == Phase::Vmas && have_vma; break;
    case CKPT_REC_TAIL: ok = phase == Phase::Vmas || phase == Phase::AfterLdt; break;
    default: ok = true;
    }
    if (ok) return std::nullopt;
    if (rec.hdr.type == CKPT_REC_PAGES && phase == Phase::Vmas)
        return where(rec) + " does not follow a VMA record";
    if (rec.hdr.type == CKPT_REC_RESTART) return where(rec) + " does not follow a THREAD record";
    if (rec.hdr.type == CKPT_REC_SIGQUEUE) return where(rec) + " does not follow a PROCESS, THREAD or RESTART record";
    std::string expected = expected_by_phase[int(phase)];
    if (before_mm) {
        if (summary.vdsos) expected = "MM";
        else if (summary.files) expected = "FILE, VDSO or MM";
        else if (summary.threads) expected = "THREAD, FILE, VDSO or MM";
        else if (summary.processes) expected = "THREAD";
        else expected = "PROCESS, THREAD or MM";
    }
    return "unexpected " + where(rec) + ": expected " + expected;
}

Status ImageReader::Impl::handle_head(const Record& rec) {
    auto p = read_payload(rec, 4096);
    if (!p) return p.error();
    if (rec.offset != 0) {
        if (auto e = check_crc_and_header(rec, p->crc)) return *e;
        return format_error("duplicate " + where(rec));
    }
    const auto& bytes = p->bytes;
    if (bytes.size() >= 8 && std::memcmp(bytes.data(), CKPT_IMAGE_MAGIC, 8) != 0)
        return format_error("bad magic in " + where(rec) + ": not a ckpt image");
    if (rec.hdr.len < sizeof(ckpt_head))
        return format_error(where(rec) + " too short: len " + std::to_string(rec.hdr.len) + ", need " +
                            std::to_string(sizeof(ckpt_head)));
    ckpt_head head;
    std::memcpy(&head, bytes.data(), sizeof head);
    if (head.major != CKPT_FORMAT_MAJOR)
        return format_error("unsupported image format version " + std::to_string(head.major) + "." +
                            std::to_string(head.minor) + " (this ckpt reads major version " +
                            std::to_string(CKPT_FORMAT_MAJOR) + ")");
    strict_reserved = head.minor <= CKPT_FORMAT_MINOR;
    if (auto e = check_crc_and_header(rec, p->crc)) return *e;
    const uint32_t ps = head.page_size;
    if (ps < kMinPageSize || ps > kMaxPageSize || (ps & (ps - 1)) != 0)
        return format_error("bad page size " + std::to_string(ps) + " in " + where(rec));
    if (std::memchr(head.release, 0, sizeof head.release) == nullptr)
        return format_error("kernel release in " + where(rec) + " is not NUL-terminated");
    // Before 1.2, `checksum` was a reserved byte.
    if (strict_reserved && (!all_zero(head.reserved) || (head.minor < 2 && head.checksum != 0)))
        return format_error("nonzero reserved field in " + where(rec));
    if (!is_known_checksum(image_checksum(head)))
        return format_error("unknown checksum algorithm " + std::to_string(image_checksum(head)) + " in " +
                            where(rec) + " (this ckpt knows 0, crc32c, and 1, xxh64)");
    checksum = image_checksum(head);
    summary.head = head;
    page_buf.resize(ps);
    phase = Phase::Task;
    visitor->on_head(head);
    return ok_status();
}

Status ImageReader::Impl::handle_task(const Record& rec) {
    auto p = read_payload(rec, sizeof(ckpt_task));
    if (!p) return p.error();
    if (auto e = check_crc_and_header(rec, p->crc)) return *e;
    if (auto e = check_phase(rec)) return format_error(*e);
    if (rec.hdr.len < sizeof(ckpt_task))
        return format_error(where(rec) + " too short: len " + std::to_string(rec.hdr.len) + ", need " +
                            std::to_string(sizeof(ckpt_task)));
    ckpt_task task;
    std::memcpy(&task, p->bytes.data(), sizeof task);
    if (task.pid <= 0 || task.tid <= 0)
        return format_error("bad pid " + std::to_string(task.pid) + "/tid " + std::to_string(task.tid) + " in " +
                            where(rec));
    if (task.nr_threads == 0) return format_error("zero threads in " + where(rec));
    if (task.state < CKPT_TASK_STOPPED || task.state > CKPT_TASK_RUNNING)
        return format_error("unknown task state " + std::to_string(task.state) + " in " + where(rec));
    if (std::memchr(task.comm, 0, sizeof task.comm) == nullptr)
        return format_error("comm in " + where(rec) + " is not NUL-terminated");
    phase = Phase::BeforeMm;
    task_pid = task.pid;
    visitor->on_task(task);
    return ok_status();
}

// Format 1.1: one per thread between TASK and MM, the leader first, then
// by ascending tid.
Status ImageReader::Impl::handle_thread(const Record& rec) {
    auto p = read_payload(rec, sizeof(ckpt_thread) + kMaxXstateSize);
    if (!p) return p.error();
    if (auto e = check_crc_and_header(rec, p->crc)) return *e;
    if (auto e = check_phase(rec)) return format_error(*e);
    if (summary.head.minor >= 1 && summary.processes == 0)
        return format_error("no PROCESS record before " + where(rec) + " (format 1." +
                            std::to_string(summary.head.minor) + " has one after TASK)");
    if (rec.hdr.len < sizeof(ckpt_thread))
        return format_error(where(rec) + " too short: len " + std::to_string(rec.hdr.len) + ", need " +
                            std::to_string(sizeof(ckpt_thread)));
    ThreadRecord tr;
    tr.offset = rec.offset;
    std::memcpy(&tr.thread, p->bytes.data(), sizeof tr.thread);
    const ckpt_thread& t = tr.thread;
    if (t.xstate_size > kMaxXstateSize || rec.hdr.len != sizeof(ckpt_thread) + t.xstate_size)
        return format_error(where(rec) + ": len " + std::to_string(rec.hdr.len) + " is not " +
                            std::to_string(sizeof(ckpt_thread)) + " + xstate_size " + std::to_string(t.xstate_size));
    if (t.tid <= 0) return format_error("bad tid " + std::to_string(t.tid) + " in " + where(rec));
    const uint32_t known = CKPT_THREAD_LEADER | CKPT_THREAD_IN_SYSCALL | CKPT_THREAD_RUNNING;
    if (strict_reserved && ((t.flags & ~known) || t.reserved || t.reserved2))
        return format_error("nonzero reserved field or unknown flags " + hex(t.flags) + " in " + where(rec));
    const int64_t key = (t.flags & CKPT_THREAD_LEADER) ? 0 : t.tid;
    if (key <= last_thread_key)
        return format_error(where(rec) + " (tid " + std::to_string(t.tid) +
                            ") out of order: the leader comes first, then ascending tids");
    last_thread_key = key;
    last_thread_tid = t.tid;
    tr.xstate.assign(p->bytes.begin() + sizeof(ckpt_thread), p->bytes.end());
    summary.threads++;
    visitor->on_thread(tr);
    return ok_status();
}

// Format 1.3: right after the THREAD record of a thread stopped in a
// timed wait.  Its fixed part may grow in a later minor.
Status ImageReader::Impl::handle_restart(const Record& rec) {
    auto p = read_payload(rec, sizeof(ckpt_restart));
    if (!p) return p.error();
    if (auto e = check_crc_and_header(rec, p->crc)) return *e;
    if (auto e = check_phase(rec)) return format_error(*e);
    if (rec.hdr.len < sizeof(ckpt_restart))
        return format_error(where(rec) + ": len " + std::to_string(rec.hdr.len) + " is less than " +
                            std::to_string(sizeof(ckpt_restart)));
    ckpt_restart r;
    std::memcpy(&r, p->bytes.data(), sizeof r);
    if (r.tid != last_thread_tid)
        return format_error(where(rec) + " is for tid " + std::to_string(r.tid) + ", after the THREAD record of tid " +
                            std::to_string(last_thread_tid));
    if (strict_reserved) {
        if (r.kind < CKPT_RESTART_SLEEP || r.kind > CKPT_RESTART_FUTEX)
            return format_error("unknown kind " + std::to_string(r.kind) + " in " + where(rec));
        if (r.reserved || (r.kind != CKPT_RESTART_SLEEP && (r.clockid || r.rmtp)))
            return format_error("nonzero reserved field in " + where(rec));
    }
    summary.restarts++;
    visitor->on_restart(r);
    return ok_status();
}

// Format 1.3: at most one, after the FILE records, before MM.
Status ImageReader::Impl::handle_vdso(const Record& rec) {
    auto p = read_payload(rec, sizeof(ckpt_vdso) + CKPT_VDSO_MAX_SIZE);
    if (!p) return p.error();
    if (auto e = check_crc_and_header(rec, p->crc)) return *e;
    if (auto e = check_phase(rec)) return format_error(*e);
    if (rec.hdr.len < sizeof(ckpt_vdso))
        return format_error(where(rec) + ": len " + std::to_string(rec.hdr.len) + " is less than " +
                            std::to_string(sizeof(ckpt_vdso)));
    VdsoRecord vr;
    vr.offset = rec.offset;
    std::memcpy(&vr.vdso, p->bytes.data(), sizeof vr.vdso);
    const ckpt_vdso& v = vr.vdso;
    const uint64_t page = summary.head.page_size;
    if (v.size == 0 || v.size > CKPT_VDSO_MAX_SIZE || v.size % page || v.start % page ||
        rec.hdr.len != sizeof(ckpt_vdso) + v.size)
        return format_error(where(rec) + ": a vDSO of " + std::to_string(v.size) + " bytes at " + hex(v.start) +
                            " in a payload of " + std::to_string(rec.hdr.len));
    vr.bytes.assign(p->bytes.begin() + sizeof(ckpt_vdso), p->bytes.end());
    summary.vdsos++;
    visitor->on_vdso(vr);
    return ok_status();
}

// Format 1.4: the process's queue right after PROCESS, a thread's right
// after its THREAD (and RESTART) record; only queues that hold signals.
Status ImageReader::Impl::handle_sigqueue(const Record& rec) {
    auto p = read_payload(rec, sizeof(ckpt_sigqueue) + uint64_t(CKPT_SIGQUEUE_MAX) * CKPT_SIGINFO_SIZE);
    if (!p) return p.error();
    if (auto e = check_crc_and_header(rec, p->crc)) return *e;
    if (auto e = check_phase(rec)) return format_error(*e);
    if (rec.hdr.len < sizeof(ckpt_sigqueue))
        return format_error(where(rec) + ": len " + std::to_string(rec.hdr.len) + " is less than " +
                            std::to_string(sizeof(ckpt_sigqueue)));
    SigQueueRecord sq;
    sq.offset = rec.offset;
    std::memcpy(&sq.queue, p->bytes.data(), sizeof sq.queue);
    const ckpt_sigqueue& q = sq.queue;
    const int32_t owner = last_type == CKPT_REC_PROCESS ? 0 : last_thread_tid;
    if (q.tid != owner)
        return format_error(where(rec) + " is for tid " + std::to_string(q.tid) + ", where " +
                            (owner ? "thread " + std::to_string(owner) + "'s" : std::string("the process's")) +
                            " queue belongs");
    if (q.nr > CKPT_SIGQUEUE_MAX || q.nr > q.queued || (q.nr < q.queued && q.nr < CKPT_SIGQUEUE_MAX) || q.queued == 0 ||
        rec.hdr.len != sizeof(ckpt_sigqueue) + uint64_t(q.nr) * CKPT_SIGINFO_SIZE)
        return format_error(where(rec) + ": " + std::to_string(q.nr) + " siginfos of " + std::to_string(q.queued) +
                            " queued in a payload of " + std::to_string(rec.hdr.len));
    if (strict_reserved && q.reserved) return format_error("nonzero reserved field in " + where(rec));
    sq.infos.resize(q.nr);
    for (uint32_t i = 0; i < q.nr; i++) {
        std::memcpy(sq.infos[i].data(), p->bytes.data() + sizeof q + size_t(i) * CKPT_SIGINFO_SIZE, CKPT_SIGINFO_SIZE);
        int32_t signo;
        std::memcpy(&signo, sq.infos[i].data(), 4);
        if (signo < 1 || signo > CKPT_NR_SIGNALS)
            return format_error(where(rec) + ": siginfo " + std::to_string(i) + " is of signal " + std::to_string(signo));
    }
    summary.sigqueues++;
    visitor->on_sigqueue(sq);
    return ok_status();
}

namespace {

// A path of `len` bytes at `*at` in `bytes`, NUL included (0: none).
std::optional<std::string> take_path(const std::vector<uint8_t>& bytes, size_t* at, uint32_t len) {
    if (len == 0) return std::string();
    const char* p = reinterpret_cast<const char*>(bytes.data() + *at);
    *at += len;
    if (p[len - 1] != '\0' || std::memchr(p, 0, len - 1) != nullptr) return std::nullopt;
    return std::string(p, len - 1);
}

}  // namespace

// Format 1.1: one, right after TASK.
Status ImageReader::Impl::handle_process(const Record& rec) {
    constexpr size_t kMaxLen = sizeof(ckpt_process) + 8 * kMaxAuxvWords + 4 * kMaxGroups + 3 * kMaxNameLen;
    auto p = read_payload(rec, kMaxLen);
    if (!p) return p.error();
    if (auto e = check_crc_and_header(rec, p->crc)) return *e;
    if (auto e = check_phase(rec)) return format_error(*e);
    if (rec.hdr.len < sizeof(ckpt_process))
        return format_error(where(rec) + " too short: len " + std::to_string(rec.hdr.len) + ", need " +
                            std::to_string(sizeof(ckpt_process)));
    ProcessRecord pr;
    pr.offset = rec.offset;
    std::memcpy(&pr.process, p->bytes.data(), sizeof pr.process);
    const ckpt_process& proc = pr.process;
    if (proc.nr_auxv > kMaxAuxvWords || proc.nr_groups > kMaxGroups || proc.exe_len > kMaxNameLen ||
        proc.cwd_len > kMaxNameLen || proc.root_len > kMaxNameLen)
        return format_error(where(rec) + ": nr_auxv " + std::to_string(proc.nr_auxv) + ", nr_groups " +
                            std::to_string(proc.nr_groups) + " or a path length over its limit");
    const uint64_t want = sizeof(ckpt_process) + 8ull * proc.nr_auxv + 4ull * proc.nr_groups + proc.exe_len +
                          proc.cwd_len + proc.root_len;
    if (rec.hdr.len != want)
        return format_error(where(rec) + ": len " + std::to_string(rec.hdr.len) + " is not " + std::to_string(want) +
                            " (2456 + 8 * nr_auxv + 4 * nr_groups + the path lengths)");
    if (proc.pid != task_pid)
        return format_error("pid " + std::to_string(proc.pid) + " in " + where(rec) + " is not TASK's " +
                            std::to_string(task_pid));
    const uint32_t known = CKPT_PROCESS_NO_NEW_PRIVS | CKPT_PROCESS_CHILD_SUBREAPER | CKPT_PROCESS_EXE_TOO_LONG |
                           CKPT_PROCESS_CWD_TOO_LONG | CKPT_PROCESS_ROOT_TOO_LONG;
    if (strict_reserved && ((proc.flags & ~known) || proc.reserved))
        return format_error("nonzero reserved field or unknown flags " + hex(proc.flags) + " in " + where(rec));
    size_t at = sizeof(ckpt_process);
    // memcpy() of 0 bytes from or to an empty vector's null data() is UB.
    pr.auxv.resize(proc.nr_auxv);
    if (!pr.auxv.empty()) std::memcpy(pr.auxv.data(), p->bytes.data() + at, 8 * pr.auxv.size());
    at += 8 * pr.auxv.size();
    if (pr.auxv.size() < 2 || pr.auxv.size() % 2 || pr.auxv[pr.auxv.size() - 2] != 0)
        return format_error("auxiliary vector in " + where(rec) + " is not type/value pairs ending with AT_NULL");
    pr.groups.resize(proc.nr_groups);
    if (!pr.groups.empty()) std::memcpy(pr.groups.data(), p->bytes.data() + at, 4 * pr.groups.size());
    at += 4 * pr.groups.size();
    auto exe = take_path(p->bytes, &at, proc.exe_len);
    auto cwd = take_path(p->bytes, &at, proc.cwd_len);
    auto root = take_path(p->bytes, &at, proc.root_len);
    if (!exe || !cwd || !root)
        return format_error("a path in " + where(rec) + " does not end with its only NUL");
    pr.exe = std::move(*exe);
    pr.cwd = std::move(*cwd);
    pr.root = std::move(*root);
    summary.processes++;
    visitor->on_process(pr);
    return ok_status();
}

// Format 1.1: one per open descriptor after the THREADs, by ascending fd.
Status ImageReader::Impl::handle_file(const Record& rec) {
    auto p = read_payload(rec, sizeof(ckpt_file) + kMaxNameLen);
    if (!p) return p.error();
    if (auto e = check_crc_and_header(rec, p->crc)) return *e;
    if (auto e = check_phase(rec)) return format_error(*e);
    if (rec.hdr.len < sizeof(ckpt_file))
        return format_error(where(rec) + " too short: len " + std::to_string(rec.hdr.len) + ", need " +
                            std::to_string(sizeof(ckpt_file)));
    FileRecord fr;
    fr.offset = rec.offset;
    std::memcpy(&fr.file, p->bytes.data(), sizeof fr.file);
    const ckpt_file& f = fr.file;
    if (f.path_len > kMaxNameLen || rec.hdr.len != sizeof(ckpt_file) + f.path_len)
        return format_error(where(rec) + ": len " + std::to_string(rec.hdr.len) + " is not " +
                            std::to_string(sizeof(ckpt_file)) + " + path_len " + std::to_string(f.path_len));
    if (int64_t(f.fd) <= last_fd)
        return format_error(where(rec) + " (fd " + std::to_string(f.fd) + ") out of order: descriptors ascend");
    last_fd = f.fd;
    const uint32_t known = CKPT_FILE_CLOEXEC | CKPT_FILE_PATH_TOO_LONG;
    if (strict_reserved && ((f.fd_flags & ~known) || f.reserved || f.kind < CKPT_FILE_REGULAR ||
                            f.kind > CKPT_FILE_ANON))
        return format_error("nonzero reserved field, unknown flags " + hex(f.fd_flags) + " or unknown kind " +
                            std::to_string(f.kind) + " in " + where(rec));
    size_t at = sizeof(ckpt_file);
    auto path = take_path(p->bytes, &at, f.path_len);
    if (!path) return format_error("the path in " + where(rec) + " does not end with its only NUL");
    fr.path = std::move(*path);
    summary.files++;
    visitor->on_file(fr);
    return ok_status();
}

Status ImageReader::Impl::handle_mm(const Record& rec) {
    auto p = read_payload(rec, sizeof(ckpt_mm));
    if (!p) return p.error();
    if (auto e = check_crc_and_header(rec, p->crc)) return *e;
    if (auto e = check_phase(rec)) return format_error(*e);
    if (summary.head.minor >= 1 && summary.processes == 0)
        return format_error("no PROCESS record before " + where(rec) + " (format 1." +
                            std::to_string(summary.head.minor) + " has one after TASK)");
    if (summary.head.minor >= 1 && summary.threads == 0)
        return format_error("no THREAD record before " + where(rec) + " (format 1." +
                            std::to_string(summary.head.minor) + " has one per thread)");
    if (rec.hdr.len < sizeof(ckpt_mm))
        return format_error(where(rec) + " too short: len " + std::to_string(rec.hdr.len) + ", need " +
                            std::to_string(sizeof(ckpt_mm)));
    ckpt_mm mm;
    std::memcpy(&mm, p->bytes.data(), sizeof mm);
    // 1.0 had `reserved` where 1.1 has mm_flags; both say which bits exist.
    const uint32_t known_mm_flags = summary.head.minor >= 1 ? kKnownMmFlags : 0;
    if (strict_reserved && (mm.mm_flags & ~known_mm_flags) != 0)
        return format_error(std::string(summary.head.minor >= 1 ? "undefined mm_flags bits " + hex(mm.mm_flags & ~known_mm_flags)
                                                                : "nonzero reserved field") +
                            " in " + where(rec));
    phase = Phase::Vmas;
    visitor->on_mm(mm);
    return ok_status();
}

Status ImageReader::Impl::handle_vma(const Record& rec) {
    auto p = read_payload(rec, sizeof(ckpt_vma) + kMaxNameLen);
    if (!p) return p.error();
    if (auto e = check_crc_and_header(rec, p->crc)) return *e;
    if (auto e = check_phase(rec)) return format_error(*e);
    if (rec.hdr.len < sizeof(ckpt_vma))
        return format_error(where(rec) + " too short: len " + std::to_string(rec.hdr.len) + ", need " +
                            std::to_string(sizeof(ckpt_vma)));
    VmaRecord v;
    v.offset = rec.offset;
    std::memcpy(&v.vma, p->bytes.data(), sizeof v.vma);
    const ckpt_vma& m = v.vma;
    if (m.name_len > kMaxNameLen)
        return format_error("absurd name_len " + std::to_string(m.name_len) + " in " + where(rec));
    if (rec.hdr.len != sizeof(ckpt_vma) + m.name_len)
        return format_error("length " + std::to_string(rec.hdr.len) + " of " + where(rec) +
                            " does not match 64 + name_len " + std::to_string(m.name_len));
    if (m.name_len > 0) {
        const char* name = reinterpret_cast<const char*>(p->bytes.data() + sizeof(ckpt_vma));
        if (name[m.name_len - 1] != '\0' || std::memchr(name, 0, m.name_len) != name + m.name_len - 1)
            return format_error("name in " + where(rec) + " is not a single NUL-terminated string");
        v.name.assign(name, m.name_len - 1);
    }
    // 1.0's vm_flags were the kernel's raw bits; 1.1 defines every bit.
    if (strict_reserved && summary.head.minor >= 1 && (m.vm_flags & ~kKnownVmaFlags) != 0)
        return format_error("undefined vm_flags bits " + hex(m.vm_flags & ~kKnownVmaFlags) + " in " + where(rec));
    if ((m.vm_flags & CKPT_VMA_F_NAME_TOO_LONG) && summary.head.minor >= 1 && m.name_len != 0)
        return format_error("NAME_TOO_LONG VMA with a name of " + std::to_string(m.name_len) + " bytes in " + where(rec));
    const uint64_t ps = summary.head.page_size;
    if (m.start % ps || m.end % ps || m.start >= m.end)
        return format_error("bad VMA bounds " + hex(m.start) + "-" + hex(m.end) + " in " + where(rec));
    if (m.start < prev_vma_end)
        return format_error("VMA " + hex(m.start) + "-" + hex(m.end) + " in " + where(rec) +
                            " overlaps or precedes the previous VMA ending at " + hex(prev_vma_end));
    if (m.kind < CKPT_VMA_ANON || m.kind > CKPT_VMA_SPECIAL)
        return format_error("unknown VMA kind " + std::to_string(m.kind) + " in " + where(rec));
    have_vma = true;
    vma = m;
    have_page = false;
    prev_vma_end = m.end;
    summary.vmas++;
    visitor->on_vma(v);
    return ok_status();
}

std::optional<std::string> ImageReader::Impl::check_pages_layout(const Record& rec, const ckpt_pages& pg) const {
    if (auto e = check_phase(rec)) return e;
    if (vma.kind == CKPT_VMA_SPECIAL)
        return where(rec) + " follows SPECIAL VMA " + hex(vma.start) + "-" + hex(vma.end) +
               ", which carries no pages";
    if (pg.nr == 0 || pg.nr > CKPT_PAGES_MAX)
        return "bad page count " + std::to_string(pg.nr) + " in " + where(rec) + " (must be 1.." +
               std::to_string(CKPT_PAGES_MAX) + ")";
    const uint64_t ps = summary.head.page_size;
    const uint64_t min_off = sizeof(ckpt_pages) + 8 * uint64_t(pg.nr);
    if (pg.data_off < min_off)
        return "data_off " + std::to_string(pg.data_off) + " in " + where(rec) +
               " overlaps the address array (minimum " + std::to_string(min_off) + ")";
    if (pg.data_off >= min_off + ps)
        return "data_off " + std::to_string(pg.data_off) + " in " + where(rec) + " pads more than a page";
    const uint64_t data_start = rec.offset + sizeof(ckpt_rec_hdr) + pg.data_off;
    if (data_start % ps)
        return "page data of " + where(rec) + " starts at unaligned stream offset " + std::to_string(data_start) +
               " (data_off " + std::to_string(pg.data_off) + ")";
    const uint64_t want_len = pg.data_off + uint64_t(pg.nr) * ps;
    if (rec.hdr.len != want_len)
        return "length " + std::to_string(rec.hdr.len) + " of " + where(rec) +
               " does not match data_off + nr * page_size = " + std::to_string(want_len);
    if (strict_reserved && pg.reserved != 0) return "nonzero reserved field in " + where(rec);
    return std::nullopt;
}

std::optional<std::string> ImageReader::Impl::check_page_addrs(const Record& rec, const PagesRecord& pr,
                                                               const std::vector<uint8_t>& prefix) const {
    const uint64_t ps = summary.head.page_size;
    bool have_prev = have_page;
    uint64_t prev = last_page;
    for (uint64_t addr : pr.addrs) {
        if (addr % ps) return "page address " + hex(addr) + " in " + where(rec) + " is not page-aligned";
        if (addr < vma.start || addr >= vma.end)
            return "page address " + hex(addr) + " in " + where(rec) + " is outside VMA " + hex(vma.start) + "-" +
                   hex(vma.end);
        if (have_prev && addr <= prev)
            return "page address " + hex(addr) + " in " + where(rec) + " is not above the previous page " +
                   hex(prev);
        have_prev = true;
        prev = addr;
    }
    const size_t addr_bytes = 8 * pr.addrs.size();
    if (!all_zero(prefix.data() + addr_bytes, prefix.size() - addr_bytes))
        return "nonzero padding before the page data in " + where(rec);
    return std::nullopt;
}

// PAGES records are streamed: page contents reach the visitor before the CRC
// is known.  Layout problems are noted, the rest of the record is still read
// so that a bad CRC (the likelier cause) is reported first.
Status ImageReader::Impl::handle_pages(const Record& rec) {
    const uint64_t len = rec.hdr.len;
    const uint64_t ps = summary.head.page_size;
    RecordChecksum sum(checksum);
    sum.update(&rec.hdr, offsetof(ckpt_rec_hdr, crc));
    uint64_t consumed = 0;
    std::optional<std::string> problem;
    PagesRecord pr;
    pr.offset = rec.offset;

    if (len < sizeof(ckpt_pages)) {
        problem = where(rec) + " too short: len " + std::to_string(len) + ", need at least 16";
    } else {
        auto got = in.read(&pr.pages, sizeof pr.pages);
        if (!got) return got.error();
        if (*got < sizeof pr.pages) return truncated_payload(rec);
        sum.update(&pr.pages, sizeof pr.pages);
        consumed = sizeof pr.pages;
        problem = check_pages_layout(rec, pr.pages);
    }
    if (!problem) {
        // Bounded by check_pages_layout: < 16 + 8 * CKPT_PAGES_MAX + page size.
        std::vector<uint8_t> prefix(size_t(pr.pages.data_off - sizeof(ckpt_pages)));
        auto got = in.read(prefix.data(), prefix.size());
        if (!got) return got.error();
        if (*got < prefix.size()) return truncated_payload(rec);
        sum.update(prefix.data(), prefix.size());
        consumed += prefix.size();
        pr.addrs.resize(pr.pages.nr);
        std::memcpy(pr.addrs.data(), prefix.data(), 8 * pr.addrs.size());
        problem = check_page_addrs(rec, pr, prefix);
    }
    if (!problem) {
        visitor->on_pages(pr);
        for (uint64_t addr : pr.addrs) {
            auto page = in.view(ps, page_buf.data());
            if (!page) return page.error();
            if (!*page) return truncated_payload(rec);
            sum.update(*page, ps);
            consumed += ps;
            visitor->on_page(addr, *page, ps);
        }
    }
    if (consumed < len) {
        auto skipped = in.consume(len - consumed, &sum);
        if (!skipped) return skipped.error();
        if (*skipped < len - consumed) return truncated_payload(rec);
    }
    if (auto e = check_crc_and_header(rec, sum.value())) return *e;
    if (problem) return format_error(*problem);
    summary.pages += pr.pages.nr;
    have_page = true;
    last_page = pr.addrs.back();
    return ok_status();
}

Status ImageReader::Impl::handle_ldt(const Record& rec) {
    auto p = read_payload(rec, sizeof(ckpt_ldt) + size_t(kLdtMaxEntries) * kLdtEntrySize);
    if (!p) return p.error();
    if (auto e = check_crc_and_header(rec, p->crc)) return *e;
    if (auto e = check_phase(rec)) return format_error(*e);
    if (rec.hdr.len < sizeof(ckpt_ldt))
        return format_error(where(rec) + " too short: len " + std::to_string(rec.hdr.len) + ", need " +
                            std::to_string(sizeof(ckpt_ldt)));
    LdtRecord l;
    l.offset = rec.offset;
    std::memcpy(&l.ldt, p->bytes.data(), sizeof l.ldt);
    if (l.ldt.entry_size != kLdtEntrySize)
        return format_error("bad LDT entry size " + std::to_string(l.ldt.entry_size) + " in " + where(rec) +
                            " (expected 8)");
    if (l.ldt.nr > kLdtMaxEntries)
        return format_error("absurd LDT entry count " + std::to_string(l.ldt.nr) + " in " + where(rec));
    const uint64_t want_len = sizeof(ckpt_ldt) + uint64_t(l.ldt.nr) * kLdtEntrySize;
    if (rec.hdr.len != want_len)
        return format_error("length " + std::to_string(rec.hdr.len) + " of " + where(rec) +
                            " does not match 8 + nr * entry_size = " + std::to_string(want_len));
    l.entries.resize(l.ldt.nr);
    if (!l.entries.empty())
        std::memcpy(l.entries.data(), p->bytes.data() + sizeof(ckpt_ldt), 8 * l.entries.size());
    have_ldt = true;
    have_vma = false;
    phase = Phase::AfterLdt;
    visitor->on_ldt(l);
    return ok_status();
}

Status ImageReader::Impl::handle_tail(const Record& rec) {
    auto p = read_payload(rec, sizeof(ckpt_tail));
    if (!p) return p.error();
    if (auto e = check_crc_and_header(rec, p->crc)) return *e;
    if (auto e = check_phase(rec)) return format_error(*e);
    if (!have_ldt && summary.head.arch == CKPT_ARCH_X86_64)
        return format_error("missing LDT record before " + where(rec));
    if (rec.hdr.len < sizeof(ckpt_tail))
        return format_error(where(rec) + " too short: len " + std::to_string(rec.hdr.len) + ", need " +
                            std::to_string(sizeof(ckpt_tail)));
    ckpt_tail t;
    std::memcpy(&t, p->bytes.data(), sizeof t);
    auto mismatch = [&](const char* what, uint64_t stored, uint64_t actual) {
        return format_error(where(rec) + " says " + std::to_string(stored) + " " + what + ", image has " +
                            std::to_string(actual));
    };
    if (t.nr_records != summary.records) return mismatch("records before it", t.nr_records, summary.records);
    if (t.bytes != rec.offset) return mismatch("as its offset", t.bytes, rec.offset);
    if (t.nr_vmas != summary.vmas) return mismatch("VMAs", t.nr_vmas, summary.vmas);
    if (t.nr_pages != summary.pages) return mismatch("pages", t.nr_pages, summary.pages);
    const uint32_t chain = crc32c_final(chain_crc);
    if (t.crc != chain)
        return format_error("bad crc chain in " + where(rec) + " (stored " + hex(t.crc) + ", computed " +
                            hex(chain) + ")");
    if (strict_reserved && t.reserved != 0) return format_error("nonzero reserved field in " + where(rec));
    summary.tail = t;
    visitor->on_tail(t);
    return ok_status();
}

Status ImageReader::Impl::handle_unknown(const Record& rec) {
    auto p = read_payload(rec, 0);
    if (!p) return p.error();
    if (auto e = check_crc_and_header(rec, p->crc)) return *e;
    visitor->on_unknown(rec.hdr.type, rec.offset, rec.hdr.len);
    return ok_status();
}

Status ImageReader::Impl::read_padding(const Record& rec) {
    uint8_t pad[8] = {};
    const size_t n = size_t(pad_to_record_align(rec.hdr.len));
    auto got = in.read(pad, n);
    if (!got) return got.error();
    if (*got < n)
        return format_error("truncated stream: padding of " + where(rec) + " ends at offset " +
                            std::to_string(in.offset()));
    if (!all_zero(pad, n)) return format_error("nonzero padding after the payload of " + where(rec));
    return ok_status();
}

Status ImageReader::Impl::check_end_of_stream() {
    const uint64_t end = in.offset();
    uint8_t byte;
    auto got = in.read(&byte, 1);
    if (!got) return got.error();
    if (*got != 0) return format_error("trailing data after the TAIL record, at offset " + std::to_string(end));
    return ok_status();
}

}  // namespace ckpt
