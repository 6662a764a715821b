#include "harness.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>

namespace bkptest {

std::string bkp_binary() {
  const char* b = std::getenv("BKP");
  return b ? b : "bkp";
}

std::string fake_rsync() {
  const char* f = std::getenv("FAKE_RSYNC");
  return f ? f : "fake-rsync";
}

namespace {

// Another user may not be able to reach the build folder (a clone in a 0700 home, say),
// so runs as another user get a copy of bkp in a world-readable temporary folder.
std::string bkp_binary_for_others() {
  static TempDir dir;
  static const std::string copy = [] {
    const fs::path to = dir / "bkp";
    fs::copy_file(bkp_binary(), to, fs::copy_options::overwrite_existing);
    ::chmod(to.c_str(), 0755);
    return to.string();
  }();
  return copy;
}

}  // namespace

RunResult run_bkp(const std::vector<std::string>& args, const RunOptions& options) {
  std::vector<std::string> argv = {options.uid == static_cast<uid_t>(-1) ? bkp_binary() : bkp_binary_for_others()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, options);
}

std::string destination_state(const fs::path& dest) {
  if (!fs::exists(dest)) return "<missing>";
  std::string state = manifest(dest);
  for (const auto& entry : fs::directory_iterator(dest))
    if (fs::is_regular_file(fs::symlink_status(entry.path() / "cfg.ini")))  // a planted FIFO would hang a read
      state += "--- " + entry.path().filename().string() + "\n" + read_file(entry.path() / "cfg.ini");
  return state;
}

Layout layout(const fs::path& dest) {
  Layout l;
  for (const auto& e : fs::directory_iterator(dest))
    if (fs::exists(e.path() / "cfg.ini")) l.series.push_back(e.path().filename().string());
  if (fs::exists(dest / "0"))
    for (const auto& e : fs::directory_iterator(dest / "0"))
      if (e.is_directory() && e.path().filename().string().size() == 19) l.snapshots.push_back(e.path().filename().string());
  std::sort(l.series.begin(), l.series.end());
  std::sort(l.snapshots.begin(), l.snapshots.end());
  return l;
}

std::string journal(const fs::path& dest, const std::string& series) { return read_file(dest / series / "cfg.ini"); }

ino_t inode_of(const fs::path& p) {
  struct stat st {};
  ::lstat(p.c_str(), &st);
  return st.st_ino;
}

int count_lines(const std::string& text) { return static_cast<int>(std::count(text.begin(), text.end(), '\n')); }

}  // namespace bkptest
