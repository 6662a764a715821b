#include <gtest/gtest.h>

#include "json.h"

using namespace bkp;

TEST(Json, QuotesLikePython) {
  EXPECT_EQ(json_quote("/home/ann"), "\"/home/ann\"");
  EXPECT_EQ(json_quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
  EXPECT_EQ(json_quote("caf\xc3\xa9"), "\"caf\\u00e9\"");
  EXPECT_EQ(json_quote("\xf0\x9f\x98\x80"), "\"\\ud83d\\ude00\"");
  EXPECT_EQ(json_quote("bad\xff"), "\"bad\\udcff\"");
  EXPECT_EQ(json_string_list({"/a", "/b c"}), "[\"/a\", \"/b c\"]");
}

TEST(Json, ListRoundTripKeepsAnyBytes) {
  const std::vector<std::string> names = {"/plain", "/with space", "/new\nline", "/-dash",
                                          "/caf\xc3\xa9", "/raw\xff\xfe", "/\xf0\x9f\x98\x80"};
  EXPECT_EQ(parse_json_string_list(json_string_list(names)), names);
}

TEST(Json, RejectsNonLists) {
  EXPECT_FALSE(parse_json_string_list("/home"));
  EXPECT_FALSE(parse_json_string_list("[\"a\""));
  EXPECT_FALSE(parse_json_string_list("[1]"));
  EXPECT_EQ(parse_json_string_list("[]"), std::vector<std::string>{});
  EXPECT_EQ(parse_json_string_list("['a']"), std::nullopt);  // not JSON
}
