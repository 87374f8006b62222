#include "coordination/offsets_partition.h"

#include <gtest/gtest.h>

#include <string>

namespace millrace::coordination {
namespace {

// Expected values computed outside this code: Java's String.hashCode over the
// UTF-16 units (Python: s.encode('utf-16-be'), h = h*31 + unit, int32 wrap).
TEST(OffsetsPartition, JavaStringHashOverUtf16Units) {
  EXPECT_EQ(java_string_hash(""), 0);
  EXPECT_EQ(java_string_hash("a"), 97);
  EXPECT_EQ(java_string_hash("my-group"), -1906497762);
  EXPECT_EQ(java_string_hash("console-consumer-12345"), 158455506);
  EXPECT_EQ(java_string_hash("gr\xC3\xBCppe"), -1233264812);    // "grüppe": one unit for ü
  EXPECT_EQ(java_string_hash("\xE7\xB5\x84"), 32068);           // "組"
  EXPECT_EQ(java_string_hash("g\xF0\x9F\x98\x80x"), 58028462);  // "g😀x": a surrogate pair
}

TEST(OffsetsPartition, KafkasFormulaIncludingIntMinValue) {
  EXPECT_EQ(offsets_partition_for("a", 50), 47);
  EXPECT_EQ(offsets_partition_for("my-group", 50), 36);
  EXPECT_EQ(offsets_partition_for("console-consumer-12345", 50), 6);
  EXPECT_EQ(offsets_partition_for("g\xF0\x9F\x98\x80x", 50), 12);
  // hashCode is Integer.MIN_VALUE: Math.abs would stay negative, Utils.abs gives 0.
  EXPECT_EQ(java_string_hash("polygenelubricants"), INT32_MIN);
  EXPECT_EQ(offsets_partition_for("polygenelubricants", 50), 0);
  // One partition (an offsets topic from before): every group on partition 0.
  EXPECT_EQ(offsets_partition_for("my-group", 1), 0);
}

TEST(OffsetsPartition, InvalidUtf8CountsAsReplacementCharacters) {
  // Java decodes each bad byte to U+FFFD (65533); never a crash or a negative partition.
  EXPECT_EQ(java_string_hash("\xFF"), 65533);
  EXPECT_EQ(java_string_hash("\xC3"), 65533);  // truncated sequence
  for (std::string s : {"\xFF\xFE", "\xE0\x80\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80"}) {
    int32_t p = offsets_partition_for(s, 50);
    EXPECT_GE(p, 0);
    EXPECT_LT(p, 50);
  }
}

}  // namespace
}  // namespace millrace::coordination
