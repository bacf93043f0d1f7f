#include "image_input.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ckpt {

Expected<ImageInput> ImageInput::open(const std::string& path) {
    if (path == "-") {
        if (::isatty(STDIN_FILENO))
            return usage_error("refusing to read an image from a terminal: pipe one in or name a file");
        return ImageInput(STDIN_FILENO, false, "<stdin>");
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io_error(path + ": " + std::strerror(errno));
    return ImageInput(fd, true, path);
}

ImageInput::ImageInput(ImageInput&& other) noexcept
    : fd_(other.fd_), owned_(other.owned_), name_(std::move(other.name_)) {
    other.owned_ = false;
}

ImageInput::~ImageInput() {
    if (owned_) ::close(fd_);
}

}  // namespace ckpt
