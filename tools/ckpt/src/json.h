// Minimal streaming JSON writer: enough for `ckpt show --json`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ckpt {

// Builds pretty-printed JSON into a string.  The caller is responsible for
// balanced begin/end calls; key() must precede every value inside an object.
class JsonWriter {
public:
    void begin_object();
    void end_object();
    void begin_array();
    void end_array();
    void key(const std::string& name);
    void value(const std::string& s);
    void value(const char* s) { value(std::string(s)); }
    // All integer widths (__u64 is unsigned long long, uint64_t unsigned long).
    void value(unsigned long long n);
    void value(long long n);
    void value(unsigned long n) { value(static_cast<unsigned long long>(n)); }
    void value(long n) { value(static_cast<long long>(n)); }
    void value(unsigned n) { value(static_cast<unsigned long long>(n)); }
    void value(int n) { value(static_cast<long long>(n)); }
    void value(bool b);

    template <typename T>
    void field(const std::string& name, const T& v) {
        key(name);
        value(v);
    }

    const std::string& str() const { return out_; }

private:
    void before_value();
    void newline();
    void raw(const std::string& s);

    std::string out_;
    // One entry per open container: true once it holds an element.
    std::vector<bool> has_items_;
    bool after_key_ = false;
};

// JSON string literal, quotes included.  Invalid UTF-8 bytes become \u00XX so
// that file names with arbitrary bytes still give valid JSON.
std::string json_quote(const std::string& s);

}  // namespace ckpt
