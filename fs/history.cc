#include "history.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <dirent.h>

#include <filesystem>
#include <set>

#include "tree_diff.h"
#include "unchanged.h"
#include "walker.h"

namespace bkpfs {

UnionListing union_listing(std::size_t snapshots, const std::string& rel, const OpenSnapshotDir& open) {
  UnionListing out;
  std::vector<bkp::DirName> names;
  for (std::size_t i = 0; i < snapshots; ++i) {
    UniqueFd dir = open(i, rel);
    if (!dir) continue;
    UniqueFd listing(::openat(dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    names.clear();
    if (!listing || !bkp::read_directory(listing.get(), names)) continue;
    const auto index = static_cast<std::uint32_t>(i);
    for (const bkp::DirName& d : names) {
      unsigned char type = d.type;
      if (type == DT_UNKNOWN) {
        struct stat st {};
        if (::fstatat(dir.get(), d.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        type = static_cast<unsigned char>(IFTODT(st.st_mode));
      }
      UnionChild& child = out[d.name];
      if (type == DT_DIR) child.directory = true;
      if (!child.appearances.empty() && child.appearances.back().ino == d.ino && child.appearances.back().type == type)
        child.appearances.back().last = index;
      else
        child.appearances.push_back({index, index, d.ino, type});
    }
  }
  return out;
}

std::string extension_of(const std::string& name) { return std::filesystem::path(name).extension().string(); }

std::vector<Version> versions_of(const Timeline& timeline, const std::string& parent, const std::string& name,
                                 const UnionChild& child, const OpenSnapshotDir& open) {
  std::vector<Version> out;
  const std::string ext = extension_of(name);
  UniqueFd last_dir;  // the directory holding the newest version found so far
  struct stat last {};
  for (const Appearance& a : child.appearances) {
    if (a.type == DT_DIR) continue;  // the directory's children are listed instead
    UniqueFd dir = open(a.first, parent);
    struct stat st {};
    if (!dir || ::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (last_dir && bkp::compare_entries(last_dir.get(), name.c_str(), last, dir.get(), name.c_str(), st) ==
                        bkp::Difference::none)
      continue;  // the same version, copied anew by a full run
    out.push_back({timeline.snapshots()[a.first].name + ext, a.first, st.st_ino,
                   static_cast<unsigned char>(IFTODT(st.st_mode))});
    last_dir = std::move(dir);
    last = st;
  }
  return out;
}

ChangesIndex changes_index(int previous_fd, int snapshot_fd) {
  const std::vector<bkp::TreeChange> changes =
      previous_fd < 0 ? bkp::list_as_added(snapshot_fd) : bkp::diff_trees(previous_fd, snapshot_fd);
  std::map<std::string, std::map<std::string, ChangedEntry>> dirs;
  for (const bkp::TreeChange& c : changes) {
    if (c.kind == bkp::ChangeKind::removed || c.directory) continue;
    std::string path = c.path;
    std::size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "" : path.substr(0, slash);
    dirs[dir].emplace(path.substr(slash + 1), ChangedEntry{path.substr(slash + 1), c.ino, false});
    // The directories that lead to it.
    while (!dir.empty()) {
      slash = dir.rfind('/');
      const std::string up = slash == std::string::npos ? "" : dir.substr(0, slash);
      const std::string leaf = dir.substr(slash + 1);
      if (!dirs[up].emplace(leaf, ChangedEntry{leaf, 0, true}).second) break;  // the rest is there already
      dir = up;
    }
  }
  ChangesIndex out;
  out[""];  // a snapshot that changed nothing is an empty directory
  for (auto& [dir, entries] : dirs) {
    std::vector<ChangedEntry>& list = out[dir];
    for (auto& [name, e] : entries) list.push_back(std::move(e));
  }
  return out;
}

}  // namespace bkpfs
