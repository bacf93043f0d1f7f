// Where `ckpt dump` writes the image.
//
// -o FILE goes to a new temporary file next to FILE (.FILE.ckpt-XXXXXX,
// O_CREAT|O_EXCL, mode 0600) that is renamed over FILE only once the dump
// succeeded: a failed or interrupted dump leaves an existing FILE as it was
// and removes the temporary file (the interrupt handler does too).  -o -
// (stdout) and a FILE that is not a regular file (/dev/null, a FIFO) are
// written directly.
#pragma once

#include <string>

#include "expected.h"

namespace ckpt {

class ImageOutput {
public:
    static Expected<ImageOutput> open(const std::string& path);
    ImageOutput(ImageOutput&& other) noexcept;
    ImageOutput(const ImageOutput&) = delete;
    ImageOutput& operator=(const ImageOutput&) = delete;
    ImageOutput& operator=(ImageOutput&&) = delete;
    // Closes the fd; removes the temporary file unless committed.
    ~ImageOutput();

    int fd() const { return fd_; }
    // What the user named ("<stdout>" for -).
    const std::string& name() const { return name_; }
    // A regular file (maybe stdout redirected to one): its size shows progress.
    bool is_regular() const { return regular_; }
    // A file ckpt created for the image: holds exactly what the module wrote.
    bool is_private_file() const { return !temp_path_.empty(); }

    // Closes the file (reporting late write errors) and puts it in place.
    Status commit();

private:
    ImageOutput(int fd, std::string name, bool owned, bool regular, std::string temp_path, std::string destination);
    void discard();

    int fd_;
    std::string name_;
    bool owned_;                // fd_ is ours to close
    bool regular_;
    std::string temp_path_;     // the file being written; empty if direct
    std::string destination_;   // what temp_path_ is renamed to
};

}  // namespace ckpt
