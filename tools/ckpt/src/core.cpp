// `ckpt core`: write an ELF core file from an image (core_writer.h).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "commands.h"
#include "core_writer.h"
#include "format_util.h"
#include "image_input.h"
#include "image_output.h"
#include "image_reader.h"
#include "interrupt.h"

namespace ckpt {
namespace {

int fail(const Error& error) {
    print_error(error.message);
    return exit_code_for(error);
}

// A file in $TMPDIR (or /tmp) that no name refers to: gone with its fd,
// whatever happens to ckpt.
class UnlinkedTempFile {
public:
    static Expected<UnlinkedTempFile> create() {
        const char* dir = std::getenv("TMPDIR");
        std::string path = std::string(dir && *dir ? dir : "/tmp") + "/ckpt-core-XXXXXX";
        const int fd = ::mkostemp(path.data(), O_CLOEXEC);
        if (fd < 0) return io_error("cannot create a temporary file in " + path + ": " + std::strerror(errno));
        ::unlink(path.c_str());
        return UnlinkedTempFile(fd);
    }
    UnlinkedTempFile(UnlinkedTempFile&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UnlinkedTempFile(const UnlinkedTempFile&) = delete;
    UnlinkedTempFile& operator=(const UnlinkedTempFile&) = delete;
    UnlinkedTempFile& operator=(UnlinkedTempFile&&) = delete;
    ~UnlinkedTempFile() {
        if (fd_ >= 0) ::close(fd_);
    }

    int fd() const { return fd_; }

    // Its first `size` bytes to `out`, in order (holes as zeros).
    Status copy_to(int out, uint64_t size) const {
        std::vector<uint8_t> buf(1 << 20);
        for (uint64_t at = 0; at < size;) {
            const ssize_t got = ::pread(fd_, buf.data(), std::min<uint64_t>(buf.size(), size - at), off_t(at));
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) return io_error(std::string("reading the temporary core: ") +
                                          (got < 0 ? std::strerror(errno) : "short file"));
            for (ssize_t done = 0; done < got;) {
                const ssize_t put = ::write(out, buf.data() + done, size_t(got - done));
                if (put < 0 && errno == EINTR) continue;
                if (put < 0) return io_error(std::strerror(errno));
                done += put;
            }
            at += uint64_t(got);
        }
        return ok_status();
    }

private:
    explicit UnlinkedTempFile(int fd) : fd_(fd) {}
    int fd_;
};

}  // namespace

int run_core(const CoreOptions& options) {
    auto input = ImageInput::open(options.input);
    if (!input) return fail(input.error());
    install_interrupt_handlers();
    auto output = ImageOutput::open(options.output);
    if (!output) return fail(output.error());
    // The core is written with seeks (its headers last); to stdout or a
    // FIFO it goes through an unlinked, sparse temporary file first.
    std::optional<UnlinkedTempFile> spool;
    if (!output->is_private_file()) {
        auto temp = UnlinkedTempFile::create();
        if (!temp) return fail(temp.error());
        spool.emplace(std::move(*temp));
    }

    CoreWriter writer(spool ? spool->fd() : output->fd());
    FdSource source(input->fd(), input->name());
    ImageReader reader(source);
    auto image = reader.read(writer);
    if (!image) return fail(Error{image.error().kind, input->name() + ": " + image.error().message});
    auto core = writer.finish();
    if (!core) return fail(Error{core.error().kind, output->name() + ": " + core.error().message});
    if (spool) {
        if (Status copied = spool->copy_to(output->fd(), core->bytes); !copied)
            return fail(Error{copied.error().kind, output->name() + ": " + copied.error().message});
    }
    if (Status committed = output->commit(); !committed) return fail(committed.error());

    if (image->head.minor < 1)
        print_error("warning: a format 1.0 image has no threads: the core has no registers");
    if (core->unavailable_pages) {
        std::string files;
        for (const std::string& f : core->unavailable_files) files += (files.empty() ? "" : ", ") + f;
        print_error("warning: " + std::to_string(core->unavailable_pages) +
                    " pages of file mappings are zeros in the core: neither in the image nor readable from "
                    "their files, which are gone or changed (" + files + ")");
    }
    if (!options.quiet)
        std::printf("wrote %s: %llu thread%s, %llu segments, %llu pages from the image, %llu from mapped files, "
                    "%s\n",
                    output->name().c_str(), static_cast<unsigned long long>(core->threads),
                    core->threads == 1 ? "" : "s", static_cast<unsigned long long>(core->segments),
                    static_cast<unsigned long long>(core->image_pages),
                    static_cast<unsigned long long>(core->file_pages), human_bytes(core->bytes).c_str());
    return kExitOk;
}

}  // namespace ckpt
