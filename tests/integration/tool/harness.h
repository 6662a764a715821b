// Helpers for integration tests that drive the built bkp as a user would. Temporary
// folders, running programs, files and manifests come from ../../common/test_support.h.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "test_support.h"

namespace bkptest {

// The built binaries, from the environment meson sets (BKP, FAKE_RSYNC).
std::string bkp_binary();
std::string fake_rsync();
RunResult run_bkp(const std::vector<std::string>& args, const RunOptions& options = {});

// Full manifest of DEST including every byte of cfg.ini, for "refusal changed nothing".
std::string destination_state(const fs::path& dest);

struct Layout {
  std::vector<std::string> series;     // folder names under DEST with a cfg.ini
  std::vector<std::string> snapshots;  // folder names under DEST/0 that look like timestamps
};
Layout layout(const fs::path& dest);
std::string journal(const fs::path& dest, const std::string& series = "0");

ino_t inode_of(const fs::path& p);
int count_lines(const std::string& text);

}  // namespace bkptest
