#include "options.h"

#include <algorithm>

#include <boost/program_options.hpp>

namespace po = boost::program_options;

namespace bkpfs {

namespace {

bool one_of(std::string_view word, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), word) != set.end();
}

bool starts_with_any(std::string_view word, std::initializer_list<std::string_view> prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(), [&](std::string_view p) { return word.starts_with(p); });
}

// Mount options libfuse understands and that make sense for a read-only view.
bool is_fuse_option(std::string_view o) {
  return one_of(o, {"allow_other", "allow_root", "auto_unmount", "nosuid", "nodev", "exec", "noexec",
                    "async", "sync", "dirsync", "atime", "noatime", "diratime", "nodiratime", "relatime",
                    "norelatime", "strictatime", "nostrictatime", "debug"}) ||
         starts_with_any(o, {"fsname=", "max_read=", "context=", "fscontext=", "defcontext=", "rootcontext="});
}

// Words that mount(8)/fstab leave in the option string, and options bkpfs overrides
// (it is always ro, nosuid, nodev with default_permissions): accepted and ignored.
bool is_dropped_option(std::string_view o) {
  return one_of(o, {"ro", "rw", "defaults", "auto", "noauto", "user", "nouser", "users", "owner", "group",
                    "nofail", "_netdev", "suid", "dev", "default_permissions", "remount"}) ||
         starts_with_any(o, {"x-", "comment=", "subtype=", "user="});
}

std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> out;
  std::string word;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      word += text[++i];  // "\," is a comma inside a value, as in libfuse
    } else if (text[i] == ',') {
      if (!word.empty()) out.push_back(std::move(word));
      word.clear();
    } else {
      word += text[i];
    }
  }
  if (!word.empty()) out.push_back(std::move(word));
  return out;
}

std::string escape_commas(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == ',' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// "4M", "512k", "65536": bytes, with an optional K, M or G (powers of 1024).
std::size_t parse_size(const std::string& option, std::string_view value) {
  std::size_t digits = 0;
  while (digits < value.size() && value[digits] >= '0' && value[digits] <= '9') ++digits;
  const std::string_view unit = value.substr(digits);
  int shift = 0;
  if (unit == "k" || unit == "K") shift = 10;
  else if (unit == "m" || unit == "M") shift = 20;
  else if (unit == "g" || unit == "G") shift = 30;
  else if (!unit.empty()) digits = 0;
  if (digits == 0 || digits > 12) throw UsageError("bad size in mount option '" + option + "' (e.g. prefetch=4M)");
  return static_cast<std::size_t>(std::stoull(std::string(value.substr(0, digits)))) << shift;
}

}  // namespace

MountOptions split_mount_options(const std::vector<std::string>& option_strings) {
  MountOptions out;
  for (const std::string& text : option_strings) {
    for (std::string& o : split_commas(text)) {
      if (o == "verbose") {
        out.verbosity = Verbosity::Verbose;
      } else if (o == "quiet") {
        out.verbosity = Verbosity::Quiet;
      } else if (o == "passthrough") {
        out.passthrough = true;
      } else if (o == "noprefetch") {
        out.prefetch_bytes = 0;
      } else if (o.starts_with("prefetch=")) {
        out.prefetch_bytes = parse_size(o, std::string_view(o).substr(9));
      } else if (is_fuse_option(o)) {
        out.fuse.push_back(std::move(o));
      } else if (is_dropped_option(o)) {
        out.dropped.push_back(std::move(o));
      } else {
        throw UsageError("unknown mount option '" + o + "' (see bkpfs --help)");
      }
    }
  }
  return out;
}

Options parse_command_line(const std::vector<std::string>& args) {
  po::options_description named("options");
  named.add_options()
      ("help,h", "")
      ("version,V", "")
      ("foreground,f", "")
      ("verbose,v", "")
      ("quiet,q", "")
      ("options,o", po::value<std::vector<std::string>>()->composing(), "")
      ("operands", po::value<std::vector<std::string>>(), "");
  po::positional_options_description positional;
  positional.add("operands", -1);

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(named).positional(positional).run(), vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }

  Options opt;
  if (vm.count("help")) {
    opt.command = Command::Help;
    return opt;
  }
  if (vm.count("version")) {
    opt.command = Command::Version;
    return opt;
  }
  std::vector<std::string> operands;
  if (vm.count("operands")) operands = vm["operands"].as<std::vector<std::string>>();
  if (operands.empty()) throw UsageError("missing command (mount or umount; see bkpfs --help)");

  if (operands[0] == "umount" || operands[0] == "unmount") {
    if (operands.size() != 2) throw UsageError("usage: bkpfs umount MOUNTPOINT");
    if (vm.count("options") || vm.count("foreground")) throw UsageError("umount takes no options");
    opt.command = Command::Umount;
    opt.mountpoint = operands[1];
    return opt;
  }
  // "bkpfs mount DEST MNT" or the mount.fuse3 form "bkpfs DEST MNT".
  if (operands[0] == "mount") operands.erase(operands.begin());
  if (operands.size() != 2) throw UsageError("usage: bkpfs mount DEST MOUNTPOINT [-f] [-o OPTIONS]");
  opt.command = Command::Mount;
  opt.dest = operands[0];
  opt.mountpoint = operands[1];
  opt.foreground = vm.count("foreground") > 0;
  std::vector<std::string> strings;
  if (vm.count("options")) strings = vm["options"].as<std::vector<std::string>>();
  opt.mount = split_mount_options(strings);
  if (vm.count("verbose") && vm.count("quiet")) throw UsageError("-v and -q exclude each other");
  if (vm.count("verbose")) opt.mount.verbosity = Verbosity::Verbose;
  if (vm.count("quiet")) opt.mount.verbosity = Verbosity::Quiet;
  return opt;
}

std::vector<std::string> fuse_arguments(const Options& options) {
  std::string o = "ro,nosuid,nodev,default_permissions,subtype=bkpfs";
  const bool named = std::any_of(options.mount.fuse.begin(), options.mount.fuse.end(),
                                 [](const std::string& f) { return f.starts_with("fsname="); });
  if (!named) o += ",fsname=" + escape_commas(options.dest);
  for (const std::string& f : options.mount.fuse) {
    if (f == "debug") continue;
    o += "," + (f.starts_with("fsname=") ? "fsname=" + escape_commas(f.substr(7)) : f);
  }
  std::vector<std::string> args{"bkpfs", "-o", o};
  if (std::find(options.mount.fuse.begin(), options.mount.fuse.end(), "debug") != options.mount.fuse.end())
    args.push_back("-d");
  return args;
}

std::string usage() {
  return R"(Usage:
  bkpfs mount DEST MOUNTPOINT [-f] [-o OPTIONS] [-v|-q]
  bkpfs umount MOUNTPOINT
  bkpfs DEST MOUNTPOINT -o OPTIONS        (form used by mount.fuse3 for /etc/fstab)
  bkpfs --help | --version

Mounts the bkp destination DEST read-only at MOUNTPOINT as a timeline:
  latest -> by-date/<newest snapshot>
  by-date/<snapshot>/<source>/...            every complete snapshot, sorted by time
  by-series/<first snapshot>/<snapshot>/...  snapshots grouped by series
  by-series/current -> <first snapshot of the current series>
  versions/<source>/<path>/<snapshot>[.ext]  every distinct version of a file
  changes/<snapshot>/<source>/...            only what is new in that snapshot

Options:
  -f, --foreground   stay in the foreground (default: detach once mounted)
  -o OPTIONS         comma-separated mount options: allow_other, allow_root,
                     auto_unmount, fsname=NAME, noexec, noatime, ..., verbose, quiet,
                     debug (trace every FUSE request),
                     passthrough (the kernel reads files straight from DEST;
                     Linux 6.9+, root; see man bkpfs), prefetch=SIZE (bytes of
                     small files read ahead when one is read; default 4M),
                     noprefetch; ro, nosuid, nodev and
                     default_permissions are always on; fstab words such as nofail,
                     _netdev, noauto, user, defaults and rw are ignored
  -v, --verbose      debug logging
  -q, --quiet        errors only
  -h, --help         this text
  -V, --version      version

fstab:  DEST  /mnt/history  fuse.bkpfs  ro,allow_other,nofail  0 0
Exit status: 0 success, 1 failure (DEST, MOUNTPOINT, /dev/fuse), 2 usage error.
)";
}

}  // namespace bkpfs
