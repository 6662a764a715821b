#include <gtest/gtest.h>

#include "inode_table.h"

namespace bkpfs {
namespace {

TEST(InodeTable, RootIsAlwaysThere) {
  InodeTable t;
  EXPECT_TRUE(t.get(kRootId));
  EXPECT_TRUE(t.forget(kRootId, 100).empty());
  EXPECT_TRUE(t.get(kRootId));
  EXPECT_EQ(t.size(), 1u);
}

TEST(InodeTable, SameEntrySameIdUntilForgotten) {
  InodeTable t;
  const NodeId dir = t.lookup(kRootId, "by-date", NodeKind::view);
  const NodeId snap = t.lookup(dir, "s1", NodeKind::view);
  EXPECT_EQ(t.lookup(dir, "s1", NodeKind::view), snap);
  EXPECT_TRUE(t.forget(snap, 1).empty());
  EXPECT_EQ(t.forget(snap, 1), (std::vector<NodeId>{snap}));
  EXPECT_FALSE(t.get(snap));
  const NodeId again = t.lookup(dir, "s1", NodeKind::view);
  EXPECT_NE(again, snap);  // the slot may be reused, the id never
  EXPECT_FALSE(t.get(snap));
  EXPECT_EQ(t.get(again)->name, "s1");
}

TEST(InodeTable, ParentsStayWhileChildrenLive) {
  InodeTable t;
  const NodeId snap = t.lookup(kRootId, "s1", NodeKind::view);
  const NodeId dir = t.lookup(snap, "src", NodeKind::content);
  const NodeId file = t.lookup(dir, "f", NodeKind::content);
  EXPECT_TRUE(t.forget(snap, 1).empty());  // still has a child
  EXPECT_TRUE(t.forget(dir, 1).empty());
  EXPECT_EQ(t.get(file)->parent, dir);
  EXPECT_EQ(t.get(dir)->name, "src");
  auto chain = t.chain(file);
  ASSERT_TRUE(chain);
  ASSERT_EQ(chain->size(), 3u);
  EXPECT_EQ((*chain)[0].name, "s1");
  EXPECT_EQ((*chain)[2].name, "f");
  // Forgetting the leaf releases the whole chain.
  EXPECT_EQ(t.forget(file, 1), (std::vector<NodeId>{file, dir, snap}));
  EXPECT_EQ(t.size(), 1u);
}

TEST(InodeTable, ANameThatStandsForSomethingElseGetsANewNode) {
  InodeTable t;
  const NodeId v = t.lookup(kRootId, "x", NodeKind::version, 7);
  const NodeId w = t.lookup(kRootId, "x", NodeKind::version, 8);
  EXPECT_NE(v, w);
  EXPECT_EQ(t.get(v)->snapshot, 7u);  // lives on until forgotten
  EXPECT_EQ(t.find(kRootId, "x"), w);
}

TEST(InodeTable, FindDoesNotCount) {
  InodeTable t;
  const NodeId s = t.lookup(kRootId, "s", NodeKind::view);
  EXPECT_EQ(t.find(kRootId, "s"), s);
  EXPECT_FALSE(t.find(kRootId, "other"));
  EXPECT_EQ(t.forget(s, 1), std::vector<NodeId>{s});
}

TEST(InodeTable, ManyNodesAllFoundAgain) {
  InodeTable t;
  std::vector<NodeId> ids;
  for (int i = 0; i < 50000; ++i) ids.push_back(t.lookup(kRootId, "file" + std::to_string(i), NodeKind::content));
  for (int i = 0; i < 50000; i += 997) EXPECT_EQ(t.find(kRootId, "file" + std::to_string(i)), ids[i]);
  for (int i = 0; i < 50000; i += 2) t.forget(ids[i], 1);
  EXPECT_EQ(t.size(), 25001u);
  for (int i = 1; i < 50000; i += 997 * 2) EXPECT_EQ(t.find(kRootId, "file" + std::to_string(i)), ids[i]);
  EXPECT_FALSE(t.find(kRootId, "file0"));
}

}  // namespace
}  // namespace bkpfs
