#include "snapshot_removal.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "errors.h"
#include "unique_fd.h"
#include "tree_removal.h"

namespace bkp {
namespace {

std::string removing_name(const std::string& name) {
  if (name.starts_with(kReusablePrefix)) return std::string(kRemovingPrefix) + name.substr(kReusablePrefix.size());
  return std::string(kRemovingPrefix) + name;
}

void rename_in(int dir_fd, const std::string& from, const std::string& to) {
  if (::renameat2(dir_fd, from.c_str(), dir_fd, to.c_str(), RENAME_NOREPLACE) == 0) return;
  if (errno == EEXIST || errno == ENOTEMPTY) {  // an earlier removal of the same name was killed
    remove_tree_at(dir_fd, to);
    if (::renameat2(dir_fd, from.c_str(), dir_fd, to.c_str(), RENAME_NOREPLACE) == 0) return;
  }
  throw_errno("cannot rename " + from + " to " + to);
}

}  // namespace

void remove_tree_at(int parent_fd, const std::string& name) {
  const RemovalResult result = remove_tree(parent_fd, name);
  if (!result.complete) throw Failure("cannot remove " + result.first_error);
}

void remove_snapshot_folder(int series_fd, const std::string& name, const std::function<void()>& forget) {
  const std::string hidden = removing_name(name);
  rename_in(series_fd, name, hidden);
  ::fsync(series_fd);  // the rename is durable before the journal forgets the snapshot
  if (forget) forget();
  remove_tree_at(series_fd, hidden);
}

std::string hide_reusable_partial(int series_fd, const std::string& name) {
  const std::string hidden = std::string(kReusablePrefix) + name;
  rename_in(series_fd, name, hidden);
  ::fsync(series_fd);
  return hidden;
}

void delete_hidden_folder(int series_fd, const std::string& hidden_name) {
  if (hidden_name.starts_with(kRemovingPrefix)) {
    remove_tree_at(series_fd, hidden_name);
    return;
  }
  const std::string removing = removing_name(hidden_name);
  rename_in(series_fd, hidden_name, removing);
  remove_tree_at(series_fd, removing);
}

void finish_removals(int series_fd) {
  std::vector<std::string> leftovers;
  {
    const int listing = ::openat(series_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR* dir = listing >= 0 ? ::fdopendir(listing) : nullptr;
    if (dir == nullptr) {
      if (listing >= 0) ::close(listing);
      throw_errno("cannot list a series folder");
    }
    while (const dirent* d = ::readdir(dir))
      if (std::string_view(d->d_name).starts_with(kRemovingPrefix)) leftovers.emplace_back(d->d_name);
    ::closedir(dir);
  }
  for (const std::string& name : leftovers) remove_tree_at(series_fd, name);
}

}  // namespace bkp
