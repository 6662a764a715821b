#include <gtest/gtest.h>

#include "inode_table.h"

namespace bkpfs {
namespace {

TEST(InodeTable, FixedVirtualNodes) {
  InodeTable t;
  EXPECT_EQ(t.get(kRootId)->kind, Kind::Root);
  EXPECT_EQ(t.lookup(kRootId, "by-date", Kind::ByDate, {}), kByDateId);
  EXPECT_EQ(t.lookup(kBySeriesId, "current", Kind::Current, {}), kCurrentId);
  EXPECT_TRUE(t.forget(kByDateId, 100).empty());  // pinned
  EXPECT_TRUE(t.get(kByDateId));
}

TEST(InodeTable, SameEntrySameIdUntilForgotten) {
  InodeTable t;
  const NodeId snap = t.lookup(kByDateId, "s1", Kind::SnapshotRoot, "s1");
  EXPECT_EQ(t.lookup(kByDateId, "s1", Kind::SnapshotRoot, "s1"), snap);
  EXPECT_TRUE(t.forget(snap, 1).empty());
  EXPECT_EQ(t.forget(snap, 1), std::vector<NodeId>{snap});
  EXPECT_FALSE(t.get(snap));
  const NodeId again = t.lookup(kByDateId, "s1", Kind::SnapshotRoot, "s1");
  EXPECT_NE(again, snap);  // ids are never reused
}

TEST(InodeTable, ParentsStayWhileChildrenLive) {
  InodeTable t;
  const NodeId snap = t.lookup(kByDateId, "s1", Kind::SnapshotRoot, "s1");
  const NodeId dir = t.lookup(snap, "src", Kind::Content, {});
  const NodeId file = t.lookup(dir, "f", Kind::Content, {});
  EXPECT_TRUE(t.forget(snap, 1).empty());  // still has a child
  EXPECT_TRUE(t.forget(dir, 1).empty());
  EXPECT_EQ(t.get(file)->parent, dir);
  EXPECT_EQ(t.get(dir)->name, "src");
  // Forgetting the leaf releases the whole chain.
  EXPECT_EQ(t.forget(file, 1), (std::vector<NodeId>{file, dir, snap}));
  EXPECT_EQ(t.size(), 5u);  // only the fixed nodes remain
}

TEST(InodeTable, FindDoesNotCount) {
  InodeTable t;
  const NodeId s = t.lookup(kBySeriesId, "s", Kind::Series, "s");
  EXPECT_EQ(t.find(kBySeriesId, "s"), s);
  EXPECT_FALSE(t.find(kBySeriesId, "other"));
  EXPECT_EQ(t.forget(s, 1), std::vector<NodeId>{s});
}

}  // namespace
}  // namespace bkpfs
