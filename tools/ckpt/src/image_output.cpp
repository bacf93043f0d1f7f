#include "image_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "interrupt.h"

namespace ckpt {
namespace {

bool is_regular_file(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

Error path_error(const std::string& path, int err) { return io_error(path + ": " + std::strerror(err)); }

// The file a rename must replace: FILE itself, or what a symlink at FILE
// points to (the link stays a link).
std::string rename_destination(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
    char resolved[PATH_MAX];
    return ::realpath(path.c_str(), resolved) ? std::string(resolved) : path;
}

// ".FILE.ckpt-XXXXXX" in FILE's directory.
std::string temp_template(const std::string& destination) {
    const size_t slash = destination.rfind('/');
    const std::string dir = slash == std::string::npos ? "" : destination.substr(0, slash + 1);
    const std::string base = slash == std::string::npos ? destination : destination.substr(slash + 1);
    return dir + "." + base + ".ckpt-XXXXXX";
}

}  // namespace

Expected<ImageOutput> ImageOutput::open(const std::string& path) {
    if (path == "-") {
        if (::isatty(STDOUT_FILENO))
            return usage_error("refusing to write an image to a terminal: redirect stdout or use -o FILE");
        return ImageOutput(STDOUT_FILENO, "<stdout>", false, is_regular_file(STDOUT_FILENO), "", "");
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode)) return path_error(path, EISDIR);
        int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0) return path_error(path, errno);
        return ImageOutput(fd, path, true, false, "", "");
    }
    const std::string destination = rename_destination(path);
    std::string temp = temp_template(destination);
    std::vector<char> name(temp.begin(), temp.end());
    name.push_back('\0');
    // mkostemp: O_CREAT|O_EXCL, mode 0600.
    int fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0) return path_error(path, errno);
    temp = name.data();
    set_interrupt_remove_path(temp.c_str());
    return ImageOutput(fd, path, true, true, temp, destination);
}

ImageOutput::ImageOutput(int fd, std::string name, bool owned, bool regular, std::string temp_path,
                         std::string destination)
    : fd_(fd),
      name_(std::move(name)),
      owned_(owned),
      regular_(regular),
      temp_path_(std::move(temp_path)),
      destination_(std::move(destination)) {}

ImageOutput::ImageOutput(ImageOutput&& other) noexcept
    : fd_(other.fd_),
      name_(std::move(other.name_)),
      owned_(other.owned_),
      regular_(other.regular_),
      temp_path_(std::move(other.temp_path_)),
      destination_(std::move(other.destination_)) {
    other.owned_ = false;
    other.temp_path_.clear();
}

ImageOutput::~ImageOutput() {
    if (owned_) ::close(fd_);
    discard();
}

void ImageOutput::discard() {
    if (temp_path_.empty()) return;
    ::unlink(temp_path_.c_str());
    set_interrupt_remove_path(nullptr);
    temp_path_.clear();
}

Status ImageOutput::commit() {
    if (owned_) {
        owned_ = false;
        if (::close(fd_) != 0) {
            const int err = errno;
            discard();
            return path_error(name_, err);
        }
    }
    if (temp_path_.empty()) return ok_status();
    if (::rename(temp_path_.c_str(), destination_.c_str()) != 0) {
        const int err = errno;
        discard();
        return io_error("cannot put the image in place: rename " + temp_path_ + " to " + destination_ + ": " +
                        std::strerror(err));
    }
    // Cleared only now: an interrupt before the rename must remove the file.
    set_interrupt_remove_path(nullptr);
    temp_path_.clear();
    return ok_status();
}

}  // namespace ckpt
