#include <gtest/gtest.h>

#include "core/key_notation.hpp"
#include "harmony/engine.hpp"

using namespace harmony;

// The full table of ../shared/docs/formats.md §2.4.
TEST(KeyNotation, MatchesTheFormatsTable) {
    struct Row {
        int pc;
        bool minor;
        const char* camelot;
        const char* open_key;
        const char* label;
    };
    const Row rows[] = {
        {8, true, "1A", "6m", "Ab minor"},   {11, false, "1B", "6d", "B major"}, {3, true, "2A", "7m", "Eb minor"},
        {6, false, "2B", "7d", "F# major"},  {10, true, "3A", "8m", "Bb minor"}, {1, false, "3B", "8d", "Db major"},
        {5, true, "4A", "9m", "F minor"},    {8, false, "4B", "9d", "Ab major"}, {0, true, "5A", "10m", "C minor"},
        {3, false, "5B", "10d", "Eb major"}, {7, true, "6A", "11m", "G minor"},  {10, false, "6B", "11d", "Bb major"},
        {2, true, "7A", "12m", "D minor"},   {5, false, "7B", "12d", "F major"}, {9, true, "8A", "1m", "A minor"},
        {0, false, "8B", "1d", "C major"},   {4, true, "9A", "2m", "E minor"},   {7, false, "9B", "2d", "G major"},
        {11, true, "10A", "3m", "B minor"},  {2, false, "10B", "3d", "D major"}, {6, true, "11A", "4m", "F# minor"},
        {9, false, "11B", "4d", "A major"},  {1, true, "12A", "5m", "Db minor"}, {4, false, "12B", "5d", "E major"},
    };
    for (const auto& r : rows) {
        const KeyName k = core::make_key_name(r.pc, r.minor);
        EXPECT_EQ(k.camelot, r.camelot) << r.label;
        EXPECT_EQ(k.open_key, r.open_key) << r.label;
        EXPECT_EQ(k.label, r.label);
        EXPECT_EQ(camelot_for(r.pc, r.minor), r.camelot);
    }
}

TEST(KeyNotation, CompatibleKeysAreSameNeighboursAndRelative) {
    const auto c = core::compatible_camelot(9, true);  // A minor = 8A
    ASSERT_EQ(c.size(), 4u);
    EXPECT_EQ(c[0], "8A");
    EXPECT_EQ(c[1], "7A");
    EXPECT_EQ(c[2], "9A");
    EXPECT_EQ(c[3], "8B");
    const auto w = core::compatible_camelot(11, false);  // B major = 1B: wraps to 12B
    EXPECT_EQ(w[1], "12B");
    EXPECT_EQ(w[2], "2B");
}
