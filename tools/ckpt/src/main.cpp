// Command-line parsing and dispatch for the `ckpt` tool.
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "format_util.h"
#include "help_text.h"
#include "record_checksum.h"

namespace ckpt {
namespace {

int print_help(const char* text) {
    std::fputs(text, stdout);
    return kExitOk;
}

const char* help_for(const std::string& command) {
    for (const auto& page : kCommandHelp)
        if (command == page.command) return page.text;
    return nullptr;
}

// One option of a command.  The handler gets the value (empty for flags)
// and returns an error message or nothing.
struct OptionSpec {
    const char* long_name;   // "--pid"
    const char* short_name;  // "-p" or nullptr
    bool takes_value;
    std::function<std::optional<std::string>(const std::string&)> apply;
};

// Parses args after the command name.  Returns an error message or nothing;
// sets *help when --help was given.
std::optional<std::string> parse_options(const std::vector<std::string>& args, const std::vector<OptionSpec>& specs,
                                         std::vector<std::string>* positionals, bool* help) {
    bool options_done = false;
    for (size_t i = 0; i < args.size(); i++) {
        const std::string& arg = args[i];
        if (options_done || arg == "-" || arg.empty() || arg[0] != '-') {
            positionals->push_back(arg);
            continue;
        }
        if (arg == "--") {
            options_done = true;
            continue;
        }
        if (arg == "-h" || arg == "--help") {
            *help = true;
            return std::nullopt;
        }
        std::string name = arg;
        std::optional<std::string> inline_value;
        if (size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
            name = arg.substr(0, eq);
            inline_value = arg.substr(eq + 1);
        }
        const OptionSpec* spec = nullptr;
        for (const auto& s : specs)
            if (name == s.long_name || (s.short_name && name == s.short_name)) spec = &s;
        if (!spec) return "unknown option '" + arg + "'";
        std::string value;
        if (spec->takes_value) {
            if (inline_value) {
                value = *inline_value;
            } else if (i + 1 < args.size()) {
                value = args[++i];
            } else {
                return std::string("option ") + spec->long_name + " needs a value";
            }
        } else if (inline_value) {
            return std::string("option ") + spec->long_name + " takes no value";
        }
        if (auto err = spec->apply(value)) return std::string(spec->long_name) + ": " + *err;
    }
    return std::nullopt;
}

std::optional<std::string> parse_pid(const std::string& text, pid_t* pid) {
    if (text.empty() || text.size() > 10 || text.find_first_not_of("0123456789") != std::string::npos)
        return "'" + text + "' is not a process id";
    long long v = std::strtoll(text.c_str(), nullptr, 10);
    if (v <= 0 || v > INT_MAX) return "'" + text + "' is not a process id";
    *pid = pid_t(v);
    return std::nullopt;
}

std::optional<std::string> parse_seconds(const std::string& text, std::chrono::milliseconds* out) {
    char* end = nullptr;
    errno = 0;
    double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || errno != 0 || !std::isfinite(v) || v <= 0 || v > 86400)
        return "'" + text + "' is not a number of seconds between 0 and 86400";
    *out = std::chrono::milliseconds(std::llround(v * 1000));
    if (out->count() == 0) *out = std::chrono::milliseconds(1);
    return std::nullopt;
}

int usage_failure(const std::string& command, const std::string& message) {
    print_error(command + ": " + message + ": see 'ckpt help " + command + "'");
    return kExitUsage;
}

// -o FILE (- for stdout), shared by dump and core.
OptionSpec output_option(std::string* output, bool* given) {
    return {"--output", "-o", true, [output, given](const std::string& v) -> std::optional<std::string> {
                if (v.empty()) return "empty file name";
                *given = true;
                *output = v;
                return std::nullopt;
            }};
}

int command_dump(const std::vector<std::string>& args) {
    DumpOptions o;
    bool have_pid = false, have_output = false, help = false;
    std::vector<std::string> positionals;
    const std::vector<OptionSpec> specs = {
        {"--pid", "-p", true, [&](const std::string& v) { have_pid = true; return parse_pid(v, &o.pid); }},
        output_option(&o.output, &have_output),
        {"--live", nullptr, false, [&](const std::string&) { o.live = true; return std::optional<std::string>(); }},
        {"--leave-stopped", nullptr, false,
         [&](const std::string&) { o.leave_stopped = true; return std::optional<std::string>(); }},
        {"--stop-timeout", nullptr, true, [&](const std::string& v) { return parse_seconds(v, &o.stop_timeout); }},
        {"--quiet", "-q", false, [&](const std::string&) { o.quiet = true; return std::optional<std::string>(); }},
        {"--stats", nullptr, true,
         [&](const std::string& v) -> std::optional<std::string> {
             if (v.empty()) return "empty file name";
             o.stats = v;
             return std::nullopt;
         }},
        {"--checksum", nullptr, true,
         [&](const std::string& v) -> std::optional<std::string> {
             uint32_t algo = 0;
             if (v == "auto")
                 o.checksum.reset();
             else if (parse_checksum_name(v, &algo))
                 o.checksum = algo;
             else
                 return "'" + v + "' is not auto, crc32c or xxh64";
             return std::nullopt;
         }},
    };
    if (auto err = parse_options(args, specs, &positionals, &help)) return usage_failure("dump", *err);
    if (help) return print_help(kDumpHelp);
    if (!positionals.empty()) return usage_failure("dump", "unexpected argument '" + positionals[0] + "'");
    if (!have_pid) return usage_failure("dump", "missing --pid PID");
    if (!have_output) return usage_failure("dump", "missing -o FILE (or -o - for stdout)");
    if (o.live && o.leave_stopped) return usage_failure("dump", "--live and --leave-stopped contradict each other");
    return run_dump(o);
}

int command_show(const std::vector<std::string>& args) {
    ShowOptions o;
    bool help = false;
    std::vector<std::string> positionals;
    const std::vector<OptionSpec> specs = {
        {"--json", nullptr, false, [&](const std::string&) { o.json = true; return std::optional<std::string>(); }},
        {"--pages", nullptr, false, [&](const std::string&) { o.pages = true; return std::optional<std::string>(); }},
    };
    if (auto err = parse_options(args, specs, &positionals, &help)) return usage_failure("show", *err);
    if (help) return print_help(kShowHelp);
    if (positionals.size() != 1) return usage_failure("show", "expected exactly one FILE (or - for stdin)");
    o.input = positionals[0];
    return run_show(o);
}

int command_verify(const std::vector<std::string>& args) {
    VerifyOptions o;
    bool help = false, have_timeout = false;
    std::vector<std::string> positionals;
    const std::vector<OptionSpec> specs = {
        {"--pid", "-p", true, [&](const std::string& v) { return parse_pid(v, &o.pid); }},
        {"--live", nullptr, false, [&](const std::string&) { o.live = true; return std::optional<std::string>(); }},
        {"--stop-timeout", nullptr, true,
         [&](const std::string& v) {
             have_timeout = true;
             return parse_seconds(v, &o.stop_timeout);
         }},
        {"--quiet", "-q", false, [&](const std::string&) { o.quiet = true; return std::optional<std::string>(); }},
    };
    if (auto err = parse_options(args, specs, &positionals, &help)) return usage_failure("verify", *err);
    if (help) return print_help(kVerifyHelp);
    if (positionals.size() != 1) return usage_failure("verify", "expected exactly one FILE (or - for stdin)");
    if (o.pid == 0 && (o.live || have_timeout))
        return usage_failure("verify", "--live and --stop-timeout only make sense with --pid");
    o.input = positionals[0];
    return run_verify(o);
}

int command_core(const std::vector<std::string>& args) {
    CoreOptions o;
    bool help = false, have_output = false;
    std::vector<std::string> positionals;
    const std::vector<OptionSpec> specs = {
        output_option(&o.output, &have_output),
        {"--quiet", "-q", false, [&](const std::string&) { o.quiet = true; return std::optional<std::string>(); }},
    };
    if (auto err = parse_options(args, specs, &positionals, &help)) return usage_failure("core", *err);
    if (help) return print_help(kCoreHelp);
    if (positionals.size() != 1) return usage_failure("core", "expected exactly one IMAGE (or - for stdin)");
    if (!have_output) return usage_failure("core", "missing -o CORE (or -o - for stdout)");
    o.input = positionals[0];
    return run_core(o);
}

int command_restore(const std::vector<std::string>& args) {
    RestoreOptions o;
    // The restorer ckpt restore starts: not for users (not in the help).
    if (args.size() >= 4 && args[0] == "--restorer") {
        o.restorer = true;
        for (int i = 0; i < 3; i++) o.restorer_fds[i] = std::atoi(args[size_t(i) + 1].c_str());
        for (size_t i = 4; i < args.size(); i++) {
            o.skip_fds = o.skip_fds || args[i] == "--skip-fds";
            o.any_pid = o.any_pid || args[i] == "--any-pid";
        }
        return run_restore(o);
    }
    bool help = false;
    std::vector<std::string> positionals;
    const std::vector<OptionSpec> specs = {
        {"--detach", "-d", false, [&](const std::string&) { o.detach = true; return std::optional<std::string>(); }},
        {"--any-pid", nullptr, false, [&](const std::string&) { o.any_pid = true; return std::optional<std::string>(); }},
        {"--skip-fds", nullptr, false, [&](const std::string&) { o.skip_fds = true; return std::optional<std::string>(); }},
        {"--quiet", "-q", false, [&](const std::string&) { o.quiet = true; return std::optional<std::string>(); }},
    };
    if (auto err = parse_options(args, specs, &positionals, &help)) return usage_failure("restore", *err);
    if (help) return print_help(kRestoreHelp);
    if (positionals.size() != 1) return usage_failure("restore", "expected exactly one IMAGE (or - for stdin)");
    o.input = positionals[0];
    return run_restore(o);
}

int main_impl(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        std::fputs(kMainHelp, stderr);
        return kExitUsage;
    }
    const std::string command = args[0];
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (command == "--help" || command == "-h") return print_help(kMainHelp);
    if (command == "--version" || command == "-V") {
        std::printf("ckpt %s\n", kVersion);
        return kExitOk;
    }
    if (command == "help") {
        if (rest.empty()) return print_help(kMainHelp);
        const char* text = help_for(rest[0]);
        if (!text) {
            print_error("help: unknown command '" + rest[0] + "': see 'ckpt --help'");
            return kExitUsage;
        }
        return print_help(text);
    }
    if (command == "dump") return command_dump(rest);
    if (command == "show") return command_show(rest);
    if (command == "verify") return command_verify(rest);
    if (command == "core") return command_core(rest);
    if (command == "restore") return command_restore(rest);
    print_error("unknown command '" + command + "': see 'ckpt --help'");
    return kExitUsage;
}

}  // namespace
}  // namespace ckpt

int main(int argc, char** argv) { return ckpt::main_impl(argc, argv); }
