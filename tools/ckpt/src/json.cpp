#include "json.h"

#include <cstdio>

namespace ckpt {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0.
size_t utf8_sequence_length(const std::string& s, size_t i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t min_cp;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        n = 2;
        min_cp = 0x80;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        n = 3;
        min_cp = 0x800;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n = 4;
        min_cp = 0x10000;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    uint32_t cp = b0 & (0x7F >> n);
    for (size_t k = 1; k < n; k++) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

}  // namespace

std::string json_quote(const std::string& s) {
    std::string out = "\"";
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            if (size_t n = utf8_sequence_length(s, i)) {
                out.append(s, i, n);
                i += n;
                continue;
            }
        }
        char esc[8];
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
            if (c < 0x20 || c >= 0x7F) {
                std::snprintf(esc, sizeof esc, "\\u%04x", c);
                out += esc;
            } else {
                out += char(c);
            }
        }
        i++;
    }
    out += '"';
    return out;
}

void JsonWriter::newline() {
    out_ += '\n';
    out_.append(2 * has_items_.size(), ' ');
}

void JsonWriter::before_value() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (!has_items_.empty()) {
        if (has_items_.back()) out_ += ',';
        has_items_.back() = true;
        newline();
    }
}

void JsonWriter::raw(const std::string& s) {
    before_value();
    out_ += s;
}

void JsonWriter::begin_object() {
    before_value();
    out_ += '{';
    has_items_.push_back(false);
}

void JsonWriter::end_object() {
    bool had = has_items_.back();
    has_items_.pop_back();
    if (had) newline();
    out_ += '}';
    if (has_items_.empty()) out_ += '\n';
}

void JsonWriter::begin_array() {
    before_value();
    out_ += '[';
    has_items_.push_back(false);
}

void JsonWriter::end_array() {
    bool had = has_items_.back();
    has_items_.pop_back();
    if (had) newline();
    out_ += ']';
}

void JsonWriter::key(const std::string& name) {
    before_value();
    out_ += json_quote(name);
    out_ += ": ";
    after_key_ = true;
}

void JsonWriter::value(const std::string& s) { raw(json_quote(s)); }
void JsonWriter::value(unsigned long long n) { raw(std::to_string(n)); }
void JsonWriter::value(long long n) { raw(std::to_string(n)); }
void JsonWriter::value(bool b) { raw(b ? "true" : "false"); }

}  // namespace ckpt
