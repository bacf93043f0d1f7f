#include "async_pwriter.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace ckpt {
namespace {

struct TempFile {
    std::string path;
    int fd = -1;
    explicit TempFile(int flags) {
        char name[] = "/tmp/ckpt-pwriter-XXXXXX";
        fd = ::mkstemp(name);
        path = name;
        if (flags != O_RDWR) {
            ::close(fd);
            fd = ::open(name, flags);
        }
    }
    ~TempFile() {
        ::close(fd);
        ::unlink(path.c_str());
    }
};

// Many buffers, out of order, more than are in flight at once: every byte
// lands where it was sent.
TEST(AsyncPwriter, EveryBufferLandsAtItsOffset) {
    TempFile file(O_RDWR);
    constexpr size_t kChunk = 4096 + 13, kChunks = 40;
    {
        AsyncPwriter writer(file.fd);
        for (size_t k = 0; k < kChunks; k++) {
            const size_t i = (k * 7) % kChunks;  // a permutation
            std::vector<uint8_t> b = writer.buffer();
            b.assign(kChunk, uint8_t(i + 1));
            writer.submit(std::move(b), i * kChunk);
        }
        ASSERT_TRUE(writer.drain());
    }
    std::vector<uint8_t> back(kChunk * kChunks);
    ASSERT_EQ(::pread(file.fd, back.data(), back.size(), 0), ssize_t(back.size()));
    for (size_t i = 0; i < back.size(); i++) ASSERT_EQ(back[i], uint8_t(i / kChunk + 1)) << i;
}

// A write that fails is reported by drain(), and later buffers are still
// taken back (no hang, whatever number is submitted after it).
TEST(AsyncPwriter, AFailedWriteIsReportedAndNothingHangs) {
    TempFile file(O_RDONLY);
    AsyncPwriter writer(file.fd);
    for (int i = 0; i < 10; i++) {
        std::vector<uint8_t> b = writer.buffer();
        b.assign(100, 1);
        writer.submit(std::move(b), uint64_t(i) * 100);
    }
    const Status st = writer.drain();
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("write: Bad file descriptor"), std::string::npos) << st.error().message;
}

}  // namespace
}  // namespace ckpt
