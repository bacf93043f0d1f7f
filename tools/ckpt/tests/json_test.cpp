#include "json.h"

#include <gtest/gtest.h>

namespace ckpt {
namespace {

TEST(Json, QuotesAndEscapes) {
    EXPECT_EQ(json_quote("plain"), "\"plain\"");
    EXPECT_EQ(json_quote("a\"b\\c\n\t"), "\"a\\\"b\\\\c\\n\\t\"");
    EXPECT_EQ(json_quote(std::string("\x01\x7f", 2)), "\"\\u0001\\u007f\"");
    EXPECT_EQ(json_quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");      // valid UTF-8 kept
    EXPECT_EQ(json_quote("bad\xff\xc3"), "\"bad\\u00ff\\u00c3\"");  // invalid bytes escaped
    EXPECT_EQ(json_quote("\xed\xa0\x80"), "\"\\u00ed\\u00a0\\u0080\"");  // surrogate
}

TEST(Json, Structure) {
    JsonWriter w;
    w.begin_object();
    w.field("n", 1u);
    w.field("s", "x");
    w.key("a");
    w.begin_array();
    w.value(uint64_t(18446744073709551615ull));
    w.value(-3);
    w.end_array();
    w.key("e");
    w.begin_array();
    w.end_array();
    w.key("o");
    w.begin_object();
    w.end_object();
    w.field("b", true);
    w.end_object();
    EXPECT_EQ(w.str(),
              "{\n  \"n\": 1,\n  \"s\": \"x\",\n  \"a\": [\n    18446744073709551615,\n    -3\n  ],\n"
              "  \"e\": [],\n  \"o\": {},\n  \"b\": true\n}\n");
}

}  // namespace
}  // namespace ckpt
