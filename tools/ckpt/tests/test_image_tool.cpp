// ckpt-test-image: writes test images to stdout for tests/cli_test.sh.
//   sample                      the valid sample image
//   sample-bad-page             the sample with one bit flipped in a page
//   sample-xxh64[-bad-page]     the same with XXH64 record checksums
//   fake-dump PID [--drop-page ADDR] [--clean-file-pages] [--xxh64]
//                               image of a live process built from /proc
//   ioctl PID [--trace|--stop] [--live] [--crc32c] [--xxh64]
//                               CKPT_IOC_CHECKPOINT of PID into /dev/null,
//                               after tracing its threads (--trace) or
//                               holding them in ptrace-stops (--stop), or
//                               neither; prints "ok" or the error.  With
//                               the fake module: does it keep the contract?
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/ckpt.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "fake_dump.h"
#include "image_builder.h"
#include "target_stop.h"

namespace {

int write_all(const std::vector<uint8_t>& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = write(STDOUT_FILENO, bytes.data() + done, bytes.size() - done);
        if (n <= 0) return 3;
        done += size_t(n);
    }
    return 0;
}

int raw_ioctl(pid_t pid, int argc, char** argv) {
    std::optional<ckpt::Hold> hold;
    bool live = false;
    uint32_t checksum_flags = 0;
    for (int i = 3; i < argc; i++) {
        const std::string arg = argv[i];
        if (arg == "--trace")
            hold = ckpt::Hold::Trace;
        else if (arg == "--stop")
            hold = ckpt::Hold::Stop;
        else if (arg == "--live")
            live = true;
        else if (arg == "--crc32c")
            checksum_flags |= CKPT_CHECKPOINT_CRC32C;
        else if (arg == "--xxh64")
            checksum_flags |= CKPT_CHECKPOINT_XXH64;
        else
            return 1;
    }
    std::optional<ckpt::TargetStop> stop;
    if (hold) {
        auto held = ckpt::TargetStop::acquire(pid, {*hold, std::chrono::milliseconds(60000)});
        if (!held) {
            std::fprintf(stderr, "%s\n", held.error().message.c_str());
            return 3;
        }
        stop.emplace(std::move(*held));
    }
    const int device = open("/dev/ckpt", O_RDWR | O_CLOEXEC);
    const int out = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (device < 0 || out < 0) return 3;
    ckpt_checkpoint_args args{};
    args.size = sizeof args;
    args.flags = (live ? CKPT_CHECKPOINT_LIVE : 0) | checksum_flags;
    args.pid = pid;
    args.fd = out;
    const int rc = ioctl(device, CKPT_IOC_CHECKPOINT, &args);
    std::printf("%s\n", rc == 0 ? "ok" : std::strerror(errno));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "sample") return write_all(ckpt::test::make_sample_image().bytes);
    if (mode == "sample-xxh64" || mode == "sample-xxh64-bad-page") {
        ckpt::test::SampleOptions o;
        o.checksum = CKPT_CSUM_XXH64;
        auto s = ckpt::test::make_sample_image(o);
        if (mode == "sample-xxh64-bad-page") s.bytes[s.first_page_data_offset + 4097] ^= 0x20;
        return write_all(s.bytes);
    }
    if (mode == "sample-bad-page") {
        auto s = ckpt::test::make_sample_image();
        s.bytes[s.first_page_data_offset + 4097] ^= 0x20;
        return write_all(s.bytes);
    }
    if (mode == "fake-dump" && argc >= 3) {
        const pid_t pid = pid_t(std::atoi(argv[2]));
        ckpt::test::FakeDumpOptions options;
        for (int i = 3; i < argc; i++) {
            const std::string arg = argv[i];
            if (arg == "--drop-page" && i + 1 < argc)
                options.drop_page = std::strtoull(argv[++i], nullptr, 0);
            else if (arg == "--clean-file-pages")
                options.include_clean_file_pages = true;
            else if (arg == "--xxh64")
                options.checksum = CKPT_CSUM_XXH64;
            else
                return 1;
        }
        auto stop = ckpt::TargetStop::acquire(pid, {});
        if (!stop) {
            std::fprintf(stderr, "%s\n", stop.error().message.c_str());
            return 3;
        }
        auto image = ckpt::test::fake_dump(pid, options);
        if (!image) {
            std::fprintf(stderr, "%s\n", image.error().message.c_str());
            return 3;
        }
        return write_all(*image);
    }
    if (mode == "ioctl" && argc >= 3) return raw_ioctl(pid_t(std::atoi(argv[2])), argc, argv);
    std::fprintf(stderr,
                 "usage: ckpt-test-image sample|sample-bad-page|sample-xxh64|sample-xxh64-bad-page|"
                 "fake-dump PID [...]|ioctl PID [...]\n");
    return 1;
}
