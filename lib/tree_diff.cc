#include "tree_diff.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <dirent.h>

#include "errors.h"
#include "unchanged.h"
#include "unique_fd.h"
#include "walker.h"

namespace bkp {

namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

std::vector<DirName> sorted_listing(int dir_fd) {
  std::vector<DirName> names;
  read_directory(dir_fd, names);  // an unreadable directory compares as empty
  std::sort(names.begin(), names.end(), [](const DirName& x, const DirName& y) { return x.name < y.name; });
  return names;
}

class Differ {
 public:
  Differ(const DiffOptions& options, bool same_device) : options_(options), same_device_(same_device) {}

  void directory(int a_fd, int b_fd, const std::string& prefix) {
    const std::vector<DirName> a = sorted_listing(a_fd), b = sorted_listing(b_fd);
    std::size_t i = 0, j = 0;
    while (i < a.size() || j < b.size()) {
      const int order = i == a.size() ? 1 : j == b.size() ? -1 : a[i].name.compare(b[j].name);
      if (order < 0) {
        one_side(a_fd, a[i++], prefix, ChangeKind::removed);
      } else if (order > 0) {
        one_side(b_fd, b[j++], prefix, ChangeKind::added);
      } else {
        both(a_fd, a[i], b_fd, b[j], prefix);
        ++i, ++j;
      }
    }
  }

  std::vector<TreeChange> take() {
    std::sort(out_.begin(), out_.end(), [](const TreeChange& x, const TreeChange& y) { return x.path < y.path; });
    return std::move(out_);
  }

  // An entry present on one side only, with everything below it when it is a directory.
  void one_side(int dir_fd, const DirName& d, const std::string& prefix, ChangeKind kind) {
    const std::string path = prefix + d.name;
    bool is_dir = d.type == DT_DIR;
    if (d.type == DT_UNKNOWN) {
      struct stat st {};
      is_dir = ::fstatat(dir_fd, d.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    out_.push_back({kind, path, is_dir, d.ino});
    if (is_dir) contents_of(dir_fd, d.name, path, kind, options_.directory_contents);
  }

  void both(int a_fd, const DirName& a, int b_fd, const DirName& b, const std::string& prefix) {
    // A hard link between the trees: nothing to read.
    if (same_device_ && a.ino == b.ino && a.type == b.type && a.type != DT_DIR && a.type != DT_UNKNOWN) return;
    struct stat sa {}, sb {};
    const bool has_a = ::fstatat(a_fd, a.name.c_str(), &sa, AT_SYMLINK_NOFOLLOW) == 0;
    const bool has_b = ::fstatat(b_fd, b.name.c_str(), &sb, AT_SYMLINK_NOFOLLOW) == 0;
    if (!has_a || !has_b) {
      if (has_a) one_side(a_fd, a, prefix, ChangeKind::removed);
      if (has_b) one_side(b_fd, b, prefix, ChangeKind::added);
      return;
    }
    const std::string path = prefix + b.name;
    if (S_ISDIR(sa.st_mode) && S_ISDIR(sb.st_mode)) {
      UniqueFd sub_a(::openat(a_fd, a.name.c_str(), kDirFlags)), sub_b(::openat(b_fd, b.name.c_str(), kDirFlags));
      if (sub_a && sub_b) directory(sub_a.get(), sub_b.get(), path + "/");
      return;
    }
    if (S_ISDIR(sa.st_mode) || S_ISDIR(sb.st_mode)) {
      // A directory became something else or the reverse: the type change, then what the
      // directory side held as removed or added.
      out_.push_back({ChangeKind::type, path, S_ISDIR(sb.st_mode), sb.st_ino});
      const bool keep = options_.directory_contents;
      if (S_ISDIR(sa.st_mode)) contents_of(a_fd, a.name, path, ChangeKind::removed, keep);
      else contents_of(b_fd, b.name, path, ChangeKind::added, keep);
      return;
    }
    switch (compare_entries(a_fd, a.name.c_str(), sa, b_fd, b.name.c_str(), sb, options_.compare_xattrs)) {
      case Difference::none: return;
      case Difference::type: out_.push_back({ChangeKind::type, path, false, sb.st_ino}); return;
      case Difference::content: out_.push_back({ChangeKind::content, path, false, sb.st_ino}); return;
      case Difference::metadata: out_.push_back({ChangeKind::metadata, path, false, sb.st_ino}); return;
    }
  }

  void contents_of(int dir_fd, const std::string& name, const std::string& path, ChangeKind kind, bool wanted) {
    if (!wanted) return;
    UniqueFd sub(::openat(dir_fd, name.c_str(), kDirFlags));
    if (!sub) return;
    for (const DirName& d : sorted_listing(sub.get())) one_side(sub.get(), d, path + "/", kind);
  }

 private:
  const DiffOptions& options_;
  const bool same_device_;
  std::vector<TreeChange> out_;
};

bool same_device(int a_fd, int b_fd) {
  struct stat a {}, b {};
  return ::fstat(a_fd, &a) == 0 && ::fstat(b_fd, &b) == 0 && a.st_dev == b.st_dev;
}

}  // namespace

std::vector<TreeChange> diff_trees(int a_root_fd, int b_root_fd, const DiffOptions& options) {
  Differ differ(options, same_device(a_root_fd, b_root_fd));
  differ.directory(a_root_fd, b_root_fd, "");
  return differ.take();
}

std::vector<TreeChange> diff_trees(const std::filesystem::path& a, const std::filesystem::path& b,
                                   const DiffOptions& options) {
  UniqueFd a_fd(::open(a.c_str(), kDirFlags));
  if (!a_fd) throw_errno(a.string());
  UniqueFd b_fd(::open(b.c_str(), kDirFlags));
  if (!b_fd) throw_errno(b.string());
  return diff_trees(a_fd.get(), b_fd.get(), options);
}

std::vector<TreeChange> list_as_added(int b_root_fd) {
  DiffOptions options;
  Differ differ(options, false);
  for (const DirName& d : sorted_listing(b_root_fd)) differ.one_side(b_root_fd, d, "", ChangeKind::added);
  return differ.take();
}

std::string format_change(const TreeChange& change) {
  std::string line(1, static_cast<char>(change.kind));
  line += ' ';
  line += change.path;
  if (change.directory && change.kind != ChangeKind::metadata && change.kind != ChangeKind::content) line += '/';
  return line;
}

}  // namespace bkp
