// ckpt-test-image: writes test images to stdout for tests/cli_test.sh.
//   sample                      the valid sample image
//   sample-bad-page             the sample with one bit flipped in a page
//   fake-dump PID [--drop-page ADDR] [--clean-file-pages]
//                               image of a live process built from /proc
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
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

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "sample") return write_all(ckpt::test::make_sample_image().bytes);
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
    std::fprintf(stderr, "usage: ckpt-test-image sample|sample-bad-page|fake-dump PID [...]\n");
    return 1;
}
