// `ckpt core`: write an ELF core file from an image (core_writer.h).
#include <cstdio>

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

}  // namespace

int run_core(const CoreOptions& options) {
    auto input = ImageInput::open(options.input);
    if (!input) return fail(input.error());
    install_interrupt_handlers();
    auto output = ImageOutput::open(options.output);
    if (!output) return fail(output.error());
    if (!output->is_private_file())
        return fail(usage_error(output->name() + ": a core is written with seeks: name a regular file"));

    CoreWriter writer(output->fd());
    FdSource source(input->fd(), input->name());
    ImageReader reader(source);
    auto image = reader.read(writer);
    if (!image) return fail(Error{image.error().kind, input->name() + ": " + image.error().message});
    auto core = writer.finish();
    if (!core) return fail(Error{core.error().kind, output->name() + ": " + core.error().message});
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
