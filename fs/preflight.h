// Checks made before mounting, so that a bad DEST or MOUNTPOINT gives one clear line and
// exit status 1 instead of a libfuse message or a mount that shows nothing.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "errors.h"

namespace bkpfs {

// A reason not to mount; main() prints "bkpfs: <what>" and exits 1.
class Refusal : public bkp::Failure {
 public:
  explicit Refusal(const std::string& message) : bkp::Failure(message) {}
};

bool is_mount_point(const std::filesystem::path& path);
// True when `dir` holds anything: mounting there hides it (a warning, not a refusal).
bool has_entries(const std::filesystem::path& dir);

void check_destination(const std::filesystem::path& dest);
void check_mountpoint(const std::filesystem::path& mountpoint);
void check_fuse_device();

}  // namespace bkpfs
