// Opens the image named on the command line ("-" for stdin) for reading.
#pragma once

#include <string>

#include "expected.h"

namespace ckpt {

class ImageInput {
public:
    // Refuses a terminal on stdin: an image is binary and never typed in.
    static Expected<ImageInput> open(const std::string& path);
    ImageInput(ImageInput&& other) noexcept;
    ImageInput& operator=(ImageInput&&) = delete;
    ImageInput(const ImageInput&) = delete;
    ImageInput& operator=(const ImageInput&) = delete;
    ~ImageInput();

    int fd() const { return fd_; }
    const std::string& name() const { return name_; }  // for messages

private:
    ImageInput(int fd, bool owned, std::string name) : fd_(fd), owned_(owned), name_(std::move(name)) {}
    int fd_ = -1;
    bool owned_ = false;
    std::string name_;
};

}  // namespace ckpt
