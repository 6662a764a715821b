// The mount table of this process (/proc/self/mountinfo), parsed once for bkp, bkpfs and
// the tests: which paths are mount points and what is mounted there.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bkp {

struct MountEntry {
  std::string mount_point;  // unescaped ("\040" is a space)
  std::string options;      // per-mount options, e.g. "ro,nosuid,nodev,relatime"
  std::string type;         // e.g. "ext4", "fuse.bkpfs"
  std::string source;       // e.g. "/dev/sda1" or the fsname of a FUSE mount
};

// Lines of mountinfo text: "id parent major:minor root mountpoint options [tags] - type source opts".
std::vector<MountEntry> parse_mountinfo(std::string_view text);
std::vector<MountEntry> read_mountinfo();  // of /proc/self/mountinfo; empty when unreadable

// The topmost mount at `path` (made absolute and normalised without touching it, so a dead
// FUSE mount that fails every stat is still found); nullopt when nothing is mounted there.
std::optional<MountEntry> mount_at(const std::filesystem::path& path);

}  // namespace bkp
