// `ckpt verify`: check an image's structure and checksums, and with --pid
// compare it against the live process.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>

#include "commands.h"
#include "format_util.h"
#include "image_input.h"
#include "image_reader.h"
#include "interrupt.h"
#include "live_compare.h"
#include "process_compare.h"
#include "process_snapshot.h"
#include "rseq_areas.h"
#include "target_stop.h"
#include "thread_compare.h"

namespace ckpt {
namespace {

int fail(const Error& error) {
    print_error(error.message);
    return exit_code_for(error);
}

std::string summary_line(const ImageSummary& s) {
    return std::to_string(s.records) + " records, " + std::to_string(s.vmas) + " VMAs, " +
           std::to_string(s.pages) + " pages, " + std::to_string(s.bytes) + " bytes";
}

void print_live_report(pid_t pid, const LiveCompareResult& r) {
    auto line = [](const char* label, uint64_t n) {
        std::printf("  %-28s %llu\n", label, static_cast<unsigned long long>(n));
    };
    std::printf("compared with pid %d:\n", int(pid));
    line("pages compared:", r.pages_compared);
    line("pages matched:", r.pages_matched);
    line("content mismatches:", r.content_mismatches);
    line("missing pages:", r.missing_pages);
    line("extra clean-file pages:", r.extra_clean_file_pages);
    line("zero pages accepted:", r.zero_pages_accepted);
    line("clean file pages skipped:", r.clean_file_pages_skipped);
    line("dumped, not resident:", r.dumped_not_resident);
    line("VMA differences:", r.vma_differences);
    line("threads compared:", r.threads_compared);
    line("thread differences:", r.thread_mismatches);
    if (r.process_compared) line("process/fd differences:", r.process_differences);
    if (r.rseq_unknown_reason.empty())
        std::printf("  %-28s %llu in %llu thread%s (%llu differed)\n", "rseq bytes excluded:",
                    static_cast<unsigned long long>(r.rseq_bytes_excluded),
                    static_cast<unsigned long long>(r.rseq_threads), r.rseq_threads == 1 ? "" : "s",
                    static_cast<unsigned long long>(r.rseq_bytes_differed));
    else
        std::printf("  %-28s none: %s\n", "rseq bytes excluded:", r.rseq_unknown_reason.c_str());
}

// Where the kernel may have rewritten the threads' rseq areas since the
// dump.  --live promises not to stop the process, and the lookup needs
// every thread in a ptrace-stop.
RseqAreas rseq_areas_to_exclude(const VerifyOptions& options, const TargetStop& stop) {
    if (options.live) {
        RseqAreas none;
        none.unknown_reason = "not looked up with --live (that would interrupt every thread)";
        return none;
    }
    return find_rseq_areas(stop);
}

}  // namespace

int run_verify(const VerifyOptions& options) {
    auto input = ImageInput::open(options.input);
    if (!input) return fail(input.error());

    std::optional<TargetStop> stop;
    std::unique_ptr<LiveComparer> comparer;
    if (options.pid != 0) {
        if (options.pid == ::getpid()) return fail(usage_error("ckpt cannot compare against itself"));
        install_interrupt_handlers();
        // --live reads /proc/PID/mem without tracing: nothing to interrupt.
        const Hold hold = options.live ? Hold::Nothing : Hold::Stop;
        auto stopped = TargetStop::acquire(options.pid, {hold, options.stop_timeout});
        if (!stopped) return fail(stopped.error());
        stop.emplace(std::move(*stopped));
        const RseqAreas rseq = rseq_areas_to_exclude(options, *stop);
        auto created = LiveComparer::create(options.pid, rseq);
        if (!created) return fail(created.error());
        comparer = std::move(*created);
    }

    FdSource source(input->fd(), input->name());
    ImageReader reader(source);
    ImageVisitor no_callbacks;
    auto summary = reader.read(comparer ? static_cast<ImageVisitor&>(*comparer) : no_callbacks);
    if (!summary) {
        print_error(input->name() + ": " + summary.error().message);
        return exit_code_for(summary.error());
    }
    if (!comparer) {
        if (!options.quiet) std::printf("OK: %s\n", summary_line(*summary).c_str());
        return kExitOk;
    }

    LiveCompareResult result = comparer->finish();
    // Registers are stable only in a ptrace-stop: not with --live.
    if (!options.live) compare_threads(comparer->threads(), comparer->live_image(), *stop, &result);
    // What /proc shows of the process: stable while it is held, and worth
    // comparing even with --live (a difference may then be a change).
    if (comparer->process()) {
        auto now = read_process_snapshot(options.pid);
        if (!now) return fail(now.error());  // ~TargetStop resumes the target
        compare_process(comparer->process(), comparer->files(), *now, &result);
    }
    if (Status resumed = stop->resume(); !resumed) print_error(resumed.error().message);
    if (!options.quiet || !result.ok()) print_live_report(options.pid, result);
    std::fflush(stdout);
    for (const std::string& warning : result.warnings) print_error("warning: " + warning);
    if (!result.rseq_unknown_reason.empty() && !options.live)
        print_error("warning: rseq areas not excluded from the comparison: " + result.rseq_unknown_reason +
                    ": a thread that ran on another CPU since the dump shows as a content mismatch");
    for (const std::string& problem : result.problems) print_error(problem);
    if (!result.ok()) {
        print_error(input->name() + ": image does not match pid " + std::to_string(options.pid));
        return kExitProblem;
    }
    if (!options.quiet)
        std::printf("OK: %s; matches pid %d\n", summary_line(*summary).c_str(), int(options.pid));
    return kExitOk;
}

}  // namespace ckpt
