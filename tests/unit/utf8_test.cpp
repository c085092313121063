// core::is_valid_utf8 / to_valid_utf8: RFC 3629 well-formedness (overlong forms, surrogates,
// code points past U+10FFFF and truncated sequences are not UTF-8).
#include <gtest/gtest.h>

#include "core/utf8.hpp"

using harmony::core::is_valid_utf8;
using harmony::core::to_valid_utf8;

TEST(Utf8, WellFormedTextPasses) {
    for (const char* s :
         {"", "plain ascii", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x8e\xb5 music", "\xf4\x8f\xbf\xbf"})
        EXPECT_TRUE(is_valid_utf8(s)) << s;
}

TEST(Utf8, MalformedTextFails) {
    for (const char* s : {"\xff", "\xc3\x28", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                          "\xe2\x82", "\x80", "ok\xf0\x9f\x8e"})
        EXPECT_FALSE(is_valid_utf8(s)) << s;
}

TEST(Utf8, RepairReplacesEachBadByteAndKeepsTheRest) {
    EXPECT_EQ(to_valid_utf8("a\xff"
                            "b"),
              "a\xef\xbf\xbd"
              "b");
    EXPECT_EQ(to_valid_utf8("\xc3\x28"), "\xef\xbf\xbd(");
    EXPECT_EQ(to_valid_utf8("caf\xc3\xa9"), "caf\xc3\xa9");
    EXPECT_EQ(to_valid_utf8("\xe2\x82"), "\xef\xbf\xbd\xef\xbf\xbd");
    EXPECT_TRUE(is_valid_utf8(to_valid_utf8("\xed\xa0\x80\xf8\x88\x80\x80\x80")));
}
