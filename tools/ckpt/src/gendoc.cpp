// ckpt-gendoc: render the tool's help texts (help_text.h) as the manual
// page ckpt(1) or as the bash completion, at build time, so that neither can
// drift from `ckpt --help`.
//
//   ckpt-gendoc man DATE > ckpt.1
//   ckpt-gendoc bash-completion > ckpt
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "help_text.h"

namespace ckpt {
namespace {

// One "  ITEM   description" entry of a list.
struct Item {
    std::string term;
    std::string desc;
};

struct Block {
    enum class Kind { kProse, kList, kExamples };
    Kind kind;
    std::vector<std::string> lines;  // prose and examples
    std::vector<Item> items;         // lists
};

struct Section {
    std::string name;  // "" for the text before the first section
    std::vector<Block> blocks;
};

struct Page {
    std::string usage;  // after "Usage: "
    std::vector<Section> sections;
};

std::vector<std::string> split_lines(const char* text) {
    std::vector<std::string> lines;
    std::string line;
    for (const char* p = text; *p; p++) {
        if (*p == '\n') {
            lines.push_back(line);
            line.clear();
        } else {
            line += *p;
        }
    }
    if (!line.empty()) lines.push_back(line);
    return lines;
}

size_t indent_of(const std::string& line) { return line.find_first_not_of(' '); }

std::string collapse_spaces(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
        out += c;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

bool is_section_header(const std::string& line) {
    if (line.empty() || line[0] == ' ' || line.back() != ':') return false;
    int words = 1;
    for (char c : line) words += c == ' ';
    return words <= 3;
}

Block& block_of(Section& section, Block::Kind kind, bool fresh) {
    if (fresh || section.blocks.empty() || section.blocks.back().kind != kind) section.blocks.push_back(Block{kind, {}, {}});
    return section.blocks.back();
}

// Parses a help text of the shape help_text.h describes.
Page parse(const char* text) {
    Page page;
    const std::vector<std::string> lines = split_lines(text);
    const std::string prefix = "Usage: ";
    if (lines.empty() || lines[0].compare(0, prefix.size(), prefix) != 0) {
        std::fprintf(stderr, "ckpt-gendoc: a help text does not start with \"Usage: \"\n");
        std::exit(1);
    }
    page.usage = lines[0].substr(prefix.size());
    page.sections.push_back(Section{"", {}});
    bool after_blank = true;
    for (size_t i = 1; i < lines.size(); i++) {
        const std::string& line = lines[i];
        Section& section = page.sections.back();
        if (line.find_first_not_of(' ') == std::string::npos) {
            after_blank = true;
            continue;
        }
        if (after_blank && is_section_header(line)) {
            page.sections.push_back(Section{line.substr(0, line.size() - 1), {}});
            continue;
        }
        const size_t indent = indent_of(line);
        if (indent == 0) {
            block_of(section, Block::Kind::kProse, after_blank).lines.push_back(collapse_spaces(line));
        } else if (section.name == "Examples") {
            block_of(section, Block::Kind::kExamples, false).lines.push_back(line.substr(indent));
        } else if (indent == 2 || (indent <= 6 && line[indent] == '-')) {
            const size_t gap = line.find("  ", indent);
            Item item;
            item.term = line.substr(indent, gap == std::string::npos ? std::string::npos : gap - indent);
            if (gap != std::string::npos) item.desc = collapse_spaces(line.substr(gap));
            if (!item.desc.empty() && item.desc[0] == ' ') item.desc.erase(0, 1);
            block_of(section, Block::Kind::kList, false).items.push_back(item);
        } else {
            Block& block = block_of(section, Block::Kind::kList, false);
            if (block.items.empty()) {
                std::fprintf(stderr, "ckpt-gendoc: continuation line without an item: %s\n", line.c_str());
                std::exit(1);
            }
            std::string& desc = block.items.back().desc;
            desc += (desc.empty() ? "" : " ") + collapse_spaces(line.substr(indent));
        }
        after_blank = false;
    }
    return page;
}

// Text for roff: backslashes and minus signs escaped, no control character
// at the start of a line.
std::string roff(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '\\')
            out += "\\e";
        else if (c == '-')
            out += "\\-";
        else
            out += c;
    }
    if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
    return out;
}

std::string upper(const std::string& text) {
    std::string out = text;
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
    return out;
}

// "ckpt dump --pid PID ..." with the command words in bold.
std::string synopsis_line(const std::string& usage) {
    size_t end = usage.find(' ');  // after "ckpt"
    if (end != std::string::npos && usage.compare(end + 1, 1, "[") != 0 && usage.compare(end + 1, 1, "-") != 0)
        end = usage.find(' ', end + 1);  // after the command word
    if (end == std::string::npos) return "\\fB" + roff(usage) + "\\fR";
    return "\\fB" + roff(usage.substr(0, end)) + "\\fR" + roff(usage.substr(end));
}

void print_blocks(const Section& section) {
    for (const Block& block : section.blocks) {
        switch (block.kind) {
        case Block::Kind::kProse:
            std::puts(".PP");
            for (const auto& line : block.lines) std::puts(roff(line).c_str());
            break;
        case Block::Kind::kList:
            for (const auto& item : block.items) {
                std::printf(".TP\n.B %s\n", roff(item.term).c_str());
                std::puts(roff(item.desc).c_str());
            }
            break;
        case Block::Kind::kExamples:
            std::puts(".PP\n.RS 4\n.nf");
            for (const auto& line : block.lines) std::puts(roff(line).c_str());
            std::puts(".fi\n.RE");
            break;
        }
    }
}

// A command's page as a subsection of COMMANDS; its own sections
// ("Options") become labelled paragraphs.
void print_command(const CommandHelp& command) {
    const Page page = parse(command.text);
    std::printf(".SS \"ckpt %s\"\n", command.command);
    std::printf(".PP\n%s\n", synopsis_line(page.usage).c_str());
    for (const Section& section : page.sections) {
        if (!section.name.empty()) std::printf(".PP\n.I %s:\n", roff(section.name).c_str());
        print_blocks(section);
    }
}

int print_man(const char* date) {
    const Page main_page = parse(kMainHelp);
    std::printf(".\\\" Generated by ckpt-gendoc from tools/ckpt/src/help_text.h: do not edit.\n");
    std::printf(".TH CKPT 1 \"%s\" \"ckpt %s\" \"User Commands\"\n", date, kVersion);
    std::puts(".SH NAME\nckpt \\- checkpoint the memory of a running process");
    std::puts(".SH SYNOPSIS\n.nf");
    std::puts(synopsis_line(main_page.usage).c_str());
    for (const auto& command : kCommandHelp) std::puts(synopsis_line(parse(command.text).usage).c_str());
    std::puts(".fi");
    for (const Section& section : main_page.sections) {
        std::printf(".SH %s\n", section.name.empty() ? "DESCRIPTION" : upper(section.name).c_str());
        print_blocks(section);
        if (section.name == "Commands")
            for (const auto& command : kCommandHelp) print_command(command);
    }
    std::puts(".SH SEE ALSO");
    std::puts(".BR ptrace (2),\n.BR proc (5),\n.BR udev (7),\n.BR dkms (8),\n.BR modprobe (8)");
    return 0;
}

// The options of a page's "Options" list: every spelling, and which take
// a process id, a file, or another value.
struct OptionWords {
    std::string all, pid, file, value;
};

void add_word(std::string& list, const std::string& word, char sep) {
    if (!list.empty()) list += sep;
    list += word;
}

OptionWords option_words(const Page& page) {
    OptionWords words;
    for (const Section& section : page.sections) {
        if (section.name != "Options") continue;
        for (const Block& block : section.blocks) {
            for (const Item& item : block.items) {
                // "-p, --pid PID": spellings, then the value's name.
                std::vector<std::string> names;
                std::string metavar, term = item.term;
                size_t pos = 0;
                while (pos < term.size()) {
                    size_t end = term.find_first_of(", ", pos);
                    std::string word = term.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
                    if (!word.empty() && word[0] == '-')
                        names.push_back(word);
                    else if (!word.empty())
                        metavar = word;
                    pos = end == std::string::npos ? term.size() : end + 1;
                }
                for (const auto& name : names) {
                    add_word(words.all, name, ' ');
                    if (metavar == "PID")
                        add_word(words.pid, name, '|');
                    else if (metavar.find("FILE") != std::string::npos)
                        add_word(words.file, name, '|');
                    else if (!metavar.empty())
                        add_word(words.value, name, '|');
                }
            }
        }
    }
    return words;
}

int print_bash_completion() {
    const Page main_page = parse(kMainHelp);
    std::string commands;
    for (const Section& section : main_page.sections)
        if (section.name == "Commands")
            for (const Block& block : section.blocks)
                for (const Item& item : block.items) add_word(commands, item.term, ' ');
    const OptionWords main_words = option_words(main_page);

    std::puts("# bash completion for ckpt(1).");
    std::puts("# Generated by ckpt-gendoc from tools/ckpt/src/help_text.h: do not edit.");
    std::puts("_ckpt()\n{");
    std::puts("\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}");
    std::puts("\tlocal cmd=${COMP_WORDS[1]:-} opts pid_opts file_opts value_opts positional");
    std::puts("\tif ((COMP_CWORD == 1)); then");
    std::printf("\t\tmapfile -t COMPREPLY < <(compgen -W '%s %s' -- \"$cur\")\n", commands.c_str(),
                main_words.all.c_str());
    std::puts("\t\treturn\n\tfi");
    std::puts("\tcase $cmd in");
    std::printf("\thelp)\n\t\t((COMP_CWORD == 2)) && mapfile -t COMPREPLY < <(compgen -W '");
    bool first = true;
    for (const auto& command : kCommandHelp) {
        std::printf("%s%s", first ? "" : " ", command.command);
        first = false;
    }
    std::puts("' -- \"$cur\")\n\t\treturn ;;");
    for (const auto& command : kCommandHelp) {
        const Page page = parse(command.text);
        const OptionWords words = option_words(page);
        const bool file_arg = page.usage.find("FILE|-") != std::string::npos &&
                              page.usage.find("-o FILE|-") == std::string::npos;
        std::printf("\t%s)\n", command.command);
        std::printf("\t\topts='%s'\n", words.all.c_str());
        std::printf("\t\tpid_opts='%s' file_opts='%s' value_opts='%s'\n", words.pid.c_str(), words.file.c_str(),
                    words.value.c_str());
        std::printf("\t\tpositional=%s ;;\n", file_arg ? "file" : "none");
    }
    std::puts("\t*) return ;;\n\tesac");
    std::puts("\tif [[ -n $pid_opts && \"|$pid_opts|\" == *\"|$prev|\"* ]]; then");
    std::puts("\t\tmapfile -t COMPREPLY < <(compgen -W \"$(cd /proc && compgen -G '[0-9]*')\" -- \"$cur\")");
    std::puts("\telif [[ -n $file_opts && \"|$file_opts|\" == *\"|$prev|\"* ]]; then");
    std::puts("\t\tmapfile -t COMPREPLY < <(compgen -f -- \"$cur\")");
    std::puts("\telif [[ -n $value_opts && \"|$value_opts|\" == *\"|$prev|\"* ]]; then");
    std::puts("\t\tCOMPREPLY=()");
    std::puts("\telif [[ $cur == -* ]]; then");
    std::puts("\t\tmapfile -t COMPREPLY < <(compgen -W \"$opts\" -- \"$cur\")");
    std::puts("\telif [[ $positional == file ]]; then");
    std::puts("\t\tmapfile -t COMPREPLY < <(compgen -f -- \"$cur\")");
    std::puts("\tfi");
    std::puts("}");
    std::puts("complete -o filenames -F _ckpt ckpt");
    return 0;
}

}  // namespace
}  // namespace ckpt

int main(int argc, char** argv) {
    if (argc == 3 && std::strcmp(argv[1], "man") == 0) return ckpt::print_man(argv[2]);
    if (argc == 2 && std::strcmp(argv[1], "bash-completion") == 0) return ckpt::print_bash_completion();
    std::fprintf(stderr, "usage: ckpt-gendoc man DATE | ckpt-gendoc bash-completion\n");
    return 1;
}
