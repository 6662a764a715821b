// The bkpfs command line:
//   bkpfs mount DEST MOUNTPOINT [-f] [-o OPTIONS] [-v|-q]
//   bkpfs umount MOUNTPOINT
//   bkpfs DEST MOUNTPOINT -o OPTIONS            (how mount.fuse3 runs us for fstab)
// and the splitting of -o strings into what libfuse gets, what bkpfs uses itself and the
// fstab-only words (nofail, _netdev, ...) that mount(8) leaves in and that are dropped.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "errors.h"

namespace bkpfs {

enum class Command { Mount, Umount, Help, Version };
enum class Verbosity { Quiet, Normal, Verbose };

// Bytes of small files read ahead per window (see prefetch.h) unless -o prefetch=SIZE.
inline constexpr std::size_t kDefaultPrefetchBytes = 4u << 20;

struct MountOptions {
  std::vector<std::string> fuse;     // handed to libfuse (always with ro, default_permissions)
  std::vector<std::string> dropped;  // fstab-only or forced options that were ignored
  Verbosity verbosity = Verbosity::Normal;
  bool passthrough = false;          // -o passthrough: FUSE passthrough reads (passthrough.h)
  std::size_t prefetch_bytes = kDefaultPrefetchBytes;  // -o prefetch=SIZE; 0: -o noprefetch
};

struct Options {
  Command command = Command::Help;
  std::string dest;
  std::string mountpoint;
  bool foreground = false;
  MountOptions mount;
};

// A command line bkpfs cannot run: exit status 2 with the message.
using bkp::UsageError;

Options parse_command_line(const std::vector<std::string>& args);  // args without argv[0]
// Splits comma-separated -o strings; throws UsageError naming an unknown option.
MountOptions split_mount_options(const std::vector<std::string>& option_strings);
// The options for fuse_session_new: the user's plus the ones bkpfs always imposes.
std::vector<std::string> fuse_arguments(const Options& options);
std::string usage();

}  // namespace bkpfs
