#include "core_writer.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "format_util.h"

namespace ckpt {
namespace {

constexpr size_t kPsargsLen = sizeof(elf_prpsinfo::pr_psargs);  // ELF_PRARGSZ, 80
constexpr uint64_t kVmRead = 0x1, kVmWrite = 0x2, kVmExec = 0x4;  // VM_*, stable since Linux 1.x
constexpr size_t kMaxFilesNamed = 5;
constexpr size_t kBatchBytes = size_t(1) << 20;  // one write per MiB of contiguous pages

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

void append(std::vector<uint8_t>& out, const void* data, size_t len) {
    const size_t at = out.size();
    out.resize(at + len);
    if (len) std::memcpy(out.data() + at, data, len);
}

// One ELF note: header, name and descriptor each padded to 4 bytes.
void add_note(std::vector<uint8_t>& out, const char* name, uint32_t type, const void* desc, size_t len) {
    Elf64_Nhdr h{};
    h.n_namesz = uint32_t(std::strlen(name) + 1);
    h.n_descsz = uint32_t(len);
    h.n_type = type;
    append(out, &h, sizeof h);
    append(out, name, h.n_namesz);
    out.resize(align_up(out.size(), 4));
    append(out, desc, len);
    out.resize(align_up(out.size(), 4));
}

// The shmem objects the kernel names like files: never opened, and their
// absent pages are zeros (the format's "shared" rule).
bool is_shmem_name(const std::string& name) {
    return name.rfind("/memfd:", 0) == 0 || name.rfind("/SYSV", 0) == 0 || name.rfind("/dev/zero", 0) == 0;
}

// Private file mappings, and shared mappings of files that are not shmem:
// the pages an image leaves out are the file's.
bool may_fill_from_file(const VmaRecord& v) {
    if (v.vma.kind == CKPT_VMA_FILE) return true;
    return v.vma.kind == CKPT_VMA_SHARED && !v.name.empty() && v.name[0] == '/' && !is_shmem_name(v.name);
}

uint32_t segment_flags(uint64_t vm_flags) {
    uint32_t f = 0;
    if (vm_flags & kVmRead) f |= PF_R;
    if (vm_flags & kVmWrite) f |= PF_W;
    if (vm_flags & kVmExec) f |= PF_X;
    return f;
}

}  // namespace

void CoreWriter::on_head(const ckpt_head& head) {
    page_size_ = head.page_size;
    cursor_ = align_up(sizeof(Elf64_Ehdr), page_size_);
    if (head.arch != CKPT_ARCH_X86_64 && !error_)
        error_ = format_error("the image is of architecture " + std::to_string(head.arch) +
                              "; ckpt core writes x86-64 cores only");
}

void CoreWriter::on_vma(const VmaRecord& vma) {
    end_segment();
    Segment s;
    s.vma = vma;
    s.offset = cursor_;
    segments_.push_back(std::move(s));
    open_segment_ = true;
}

void CoreWriter::on_page(uint64_t addr, const uint8_t* data, size_t page_size) {
    if (!open_segment_) return;  // the reader fails such an image anyway
    Segment& s = segments_.back();
    // Contiguous pages go out in one write of up to kBatchBytes.
    const uint64_t at = s.offset + (addr - s.vma.vma.start);
    if (pending_.size() + page_size > kBatchBytes || (!pending_.empty() && pending_at_ + pending_.size() != at))
        flush_pending();
    if (pending_.empty()) {
        pending_at_ = at;
        if (!have_buffer_) {
            pending_ = writer_.buffer();
            pending_.reserve(kBatchBytes);
            have_buffer_ = true;
        }
    }
    pending_.insert(pending_.end(), data, data + page_size);
    // Kept only where the file fills the rest: memory stays bounded by the
    // file mappings' written pages, whatever the anonymous memory's size.
    if (may_fill_from_file(s.vma)) s.dumped.push_back(addr);
    s.nr_dumped++;
    summary_.image_pages++;
    // The command line, for NT_PRPSINFO's pr_psargs, as the kernel copies it.
    if (mm_ && addr < mm_->arg_end && addr + page_size > mm_->arg_start) {
        const uint64_t arg_end = std::min<uint64_t>(mm_->arg_end, mm_->arg_start + kPsargsLen);
        if (psargs_.empty()) psargs_.assign(kPsargsLen, '\0');
        for (uint64_t a = std::max<uint64_t>(addr, mm_->arg_start); a < std::min<uint64_t>(addr + page_size, arg_end); a++)
            psargs_[a - mm_->arg_start] = char(data[a - addr]);
    }
}

void CoreWriter::flush_pending() {
    if (pending_.empty()) return;
    writer_.submit(std::move(pending_), pending_at_);
    pending_ = {};
    have_buffer_ = false;
}

void CoreWriter::end_segment() {
    if (!open_segment_) return;
    flush_pending();
    open_segment_ = false;
    Segment& s = segments_.back();
    const ckpt_vma& v = s.vma.vma;
    const uint64_t size = v.end - v.start;
    switch (v.kind) {
    case CKPT_VMA_ANON:
        s.filesz = size;  // what the image lacks is zero: a hole in the core
        break;
    case CKPT_VMA_SHARED:
        s.filesz = size;
        if (may_fill_from_file(s.vma)) fill_from_file(s);
        break;
    case CKPT_VMA_FILE:
        // As the kernel: a private file mapping the process never wrote is
        // left to the file (gdb reads it from there, through NT_FILE).
        if (s.nr_dumped) {
            s.filesz = size;
            fill_from_file(s);
        } else if (v.pgoff == 0 && (v.vm_flags & kVmRead)) {
            write_elf_header_page(s);
        }
        break;
    default:
        break;  // special mappings hold no data in the image
    }
    cursor_ = align_up(s.offset + s.filesz, page_size_);
}

// As the kernel's MMF_DUMP_ELF_HEADERS (on by default): the first page of
// an unwritten private mapping of an executable or ELF file, so that gdb
// finds the build-id of what was mapped there in the core itself (without
// it, gdb warns that the core "may not match" the executable).  Only from
// the same file (inode) as the dump's; otherwise it stays left to the file.
void CoreWriter::write_elf_header_page(Segment& s) {
    const ckpt_vma& v = s.vma.vma;
    if (s.vma.name.empty() || v.end - v.start < page_size_) return;
    const int fd = ::open(s.vma.name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    std::vector<uint8_t> page(page_size_);
    ssize_t n = -1;
    if (::fstat(fd, &st) == 0 && uint64_t(st.st_ino) == v.ino) n = ::pread(fd, page.data(), page_size_, 0);
    ::close(fd);
    if (n <= 0) return;
    const bool elf = n >= SELFMAG && std::memcmp(page.data(), ELFMAG, SELFMAG) == 0;
    if (!elf && !(st.st_mode & 0111)) return;
    write_at(page.data(), page_size_, s.offset);
    s.filesz = page_size_;
    summary_.file_pages++;
}

// The pages of a file mapping the image leaves to the file, read from it
// when it is still the same file (same inode); zeros otherwise.
void CoreWriter::fill_from_file(Segment& s) {
    const ckpt_vma& v = s.vma.vma;
    const uint64_t pages = (v.end - v.start) / page_size_;
    if (s.dumped.size() == pages) return;
    const int fd = s.vma.name.empty() ? -1 : ::open(s.vma.name.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    const bool same = fd >= 0 && ::fstat(fd, &st) == 0 && uint64_t(st.st_ino) == v.ino;
    std::vector<uint8_t> page(page_size_);
    size_t next_dumped = 0;
    for (uint64_t i = 0; i < pages; i++) {
        const uint64_t addr = v.start + i * page_size_;
        if (next_dumped < s.dumped.size() && s.dumped[next_dumped] == addr) {
            next_dumped++;
            continue;
        }
        if (!same) {
            summary_.unavailable_pages++;
            continue;
        }
        const uint64_t file_off = (v.pgoff + i) * page_size_;
        const ssize_t n = ::pread(fd, page.data(), page_size_, off_t(file_off));
        if (n <= 0) continue;  // past the end of the file: nothing mapped there
        std::fill(page.begin() + n, page.end(), 0);
        write_at(page.data(), page_size_, s.offset + i * page_size_);
        summary_.file_pages++;
    }
    if (fd >= 0) ::close(fd);
    if (!same && summary_.unavailable_files.size() < kMaxFilesNamed)
        summary_.unavailable_files.push_back(!s.vma.name.empty() ? s.vma.name
                                                                  : "(a path longer than 4095 bytes, inode " +
                                                                        std::to_string(v.ino) + ")");
}

void CoreWriter::write_at(const void* data, size_t len, uint64_t offset) {
    if (error_) return;
    const uint8_t* p = static_cast<const uint8_t*>(data);
    while (len) {
        const ssize_t n = ::pwrite(fd_, p, len, off_t(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            error_ = io_error(std::string("write: ") + (n < 0 ? std::strerror(errno) : "no space"));
            return;
        }
        p += n;
        len -= size_t(n);
        offset += uint64_t(n);
    }
}

// In the kernel's order (fill_note_info/write_note_info): the first
// thread's NT_PRSTATUS, the process's notes, the first thread's other
// register sets; then each other thread's.
std::vector<uint8_t> CoreWriter::notes() const {
    std::vector<uint8_t> out;
    const ckpt_process* p = process_ ? &process_->process : nullptr;
    auto prstatus = [&](const ThreadRecord& r) {
        elf_prstatus s{};
        s.pr_pid = r.thread.tid;
        if (p) {
            s.pr_ppid = p->ppid;
            s.pr_pgrp = p->pgid;
            s.pr_sid = p->sid;
        }
        s.pr_sigpend = r.thread.sig_pending;
        s.pr_sighold = r.thread.sig_blocked;
        static_assert(sizeof s.pr_reg == sizeof r.thread.regs, "user_regs_struct is NT_PRSTATUS's");
        std::memcpy(&s.pr_reg, r.thread.regs, sizeof s.pr_reg);
        s.pr_fpvalid = r.xstate.size() >= 512;
        add_note(out, "CORE", NT_PRSTATUS, &s, sizeof s);
    };
    auto fpu = [&](const ThreadRecord& r) {
        if (r.xstate.size() < 512) return;
        add_note(out, "CORE", NT_PRFPREG, r.xstate.data(), 512);  // the FXSAVE region
        if (r.xstate.size() > 512) add_note(out, "LINUX", NT_X86_XSTATE, r.xstate.data(), r.xstate.size());
    };

    if (!threads_.empty()) prstatus(threads_[0]);

    elf_prpsinfo ps{};
    const char states[] = "RSDTZW";
    ps.pr_state = task_.state == CKPT_TASK_STOPPED ? 3 : 0;  // 'T' held, else 'R' (the kernel's index)
    ps.pr_sname = states[int(ps.pr_state)];
    ps.pr_pid = task_.pid;
    if (p) {
        ps.pr_ppid = p->ppid;
        ps.pr_pgrp = p->pgid;
        ps.pr_sid = p->sid;
        ps.pr_uid = p->uid[0];
        ps.pr_gid = p->gid[0];
    }
    std::memcpy(ps.pr_fname, task_.comm, std::min(sizeof ps.pr_fname, sizeof task_.comm));
    ps.pr_fname[sizeof ps.pr_fname - 1] = '\0';
    if (!psargs_.empty()) {
        std::string args = psargs_;
        while (!args.empty() && args.back() == '\0') args.pop_back();
        std::replace(args.begin(), args.end(), '\0', ' ');
        std::memcpy(ps.pr_psargs, args.data(), std::min(args.size(), sizeof ps.pr_psargs - 1));
    }
    add_note(out, "CORE", NT_PRPSINFO, &ps, sizeof ps);

    if (p && !process_->auxv.empty())
        add_note(out, "CORE", NT_AUXV, process_->auxv.data(), process_->auxv.size() * 8);

    // NT_FILE: count, page size, (start, end, offset in pages) each, names.
    std::vector<uint64_t> words{0, page_size_};
    std::string names;
    for (const Segment& s : segments_) {
        if (s.vma.name.empty() || s.vma.name[0] != '/' || s.vma.vma.kind == CKPT_VMA_ANON) continue;
        words[0]++;
        words.push_back(s.vma.vma.start);
        words.push_back(s.vma.vma.end);
        words.push_back(s.vma.vma.pgoff);
        names.append(s.vma.name).push_back('\0');
    }
    std::vector<uint8_t> file_note;
    append(file_note, words.data(), words.size() * 8);
    append(file_note, names.data(), names.size());
    add_note(out, "CORE", NT_FILE, file_note.data(), file_note.size());

    if (!threads_.empty()) fpu(threads_[0]);
    for (size_t i = 1; i < threads_.size(); i++) {
        prstatus(threads_[i]);
        fpu(threads_[i]);
    }
    return out;
}

Expected<CoreSummary> CoreWriter::finish() {
    end_segment();
    if (Status written = writer_.drain(); !written && !error_) error_ = written.error();
    if (error_) return *error_;

    const std::vector<uint8_t> note_data = notes();
    const uint64_t notes_off = cursor_;
    const uint64_t phdrs_off = align_up(notes_off + note_data.size(), 8);
    const uint64_t nr_phdrs = 1 + segments_.size();

    std::vector<Elf64_Phdr> phdrs;
    Elf64_Phdr note{};
    note.p_type = PT_NOTE;
    note.p_offset = notes_off;
    note.p_filesz = note_data.size();
    note.p_align = 4;
    phdrs.push_back(note);
    for (const Segment& s : segments_) {
        Elf64_Phdr ph{};
        ph.p_type = PT_LOAD;
        ph.p_offset = s.offset;
        ph.p_vaddr = s.vma.vma.start;
        ph.p_filesz = s.filesz;
        ph.p_memsz = s.vma.vma.end - s.vma.vma.start;
        ph.p_flags = segment_flags(s.vma.vma.vm_flags);
        ph.p_align = page_size_;
        phdrs.push_back(ph);
    }
    write_at(note_data.data(), note_data.size(), notes_off);
    write_at(phdrs.data(), phdrs.size() * sizeof(Elf64_Phdr), phdrs_off);
    uint64_t end = phdrs_off + phdrs.size() * sizeof(Elf64_Phdr);

    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
    eh.e_type = ET_CORE;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = phdrs_off;
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    if (nr_phdrs < PN_XNUM) {
        eh.e_phnum = uint16_t(nr_phdrs);
    } else {
        // Extended numbering, as the kernel does: the count is in the
        // first section header's sh_info.
        Elf64_Shdr sh{};
        sh.sh_info = uint32_t(nr_phdrs);
        eh.e_phnum = PN_XNUM;
        eh.e_shoff = end;
        eh.e_shentsize = sizeof(Elf64_Shdr);
        eh.e_shnum = 1;
        write_at(&sh, sizeof sh, end);
        end += sizeof sh;
    }
    write_at(&eh, sizeof eh, 0);
    if (error_) return *error_;
    if (::ftruncate(fd_, off_t(end)) != 0) return io_error(std::string("truncate: ") + std::strerror(errno));
    summary_.threads = threads_.size();
    summary_.segments = segments_.size();
    summary_.bytes = end;
    return summary_;
}

}  // namespace ckpt
