// remove-trees [-j THREADS] TREE...: removes each tree with lib/tree_removal (what `bkp prune` does after
// hiding a snapshot), one after the other, so that scripts/bench can time it against
// `rm -rf TREE...`. Prints the first problem of each tree and exits 1 if any tree stayed.
#include <fcntl.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "tree_removal.h"
#include "unique_fd.h"

int main(int argc, char** argv) {
  int status = 0;
  bkp::RemovalOptions options;
  int first = 1;
  if (argc > 2 && std::strcmp(argv[1], "-j") == 0) {
    options.threads = static_cast<unsigned>(std::atoi(argv[2]));
    first = 3;
  }
  for (int i = first; i < argc; ++i) {
    const std::filesystem::path tree = std::filesystem::absolute(argv[i]).lexically_normal();
    bkp::UniqueFd parent(::open(tree.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!parent) {
      std::perror(tree.parent_path().c_str());
      status = 1;
      continue;
    }
    const bkp::RemovalResult r = bkp::remove_tree(parent.get(), tree.filename(), options);
    if (!r.complete) {
      std::fprintf(stderr, "remove-trees: %s/%s (%llu problems)\n", tree.parent_path().c_str(), r.first_error.c_str(),
                   static_cast<unsigned long long>(r.failures));
      status = 1;
    }
  }
  return status;
}
