// Extended attributes (POSIX ACLs are stored as system.posix_acl_*) of an entry named
// relative to an open directory, never following a symlink stored there.
#pragma once

#include <string>

namespace bkp {

// A path that names entry `name` of the open directory `dir_fd` for the path-only xattr
// calls: /proc/self/fd/N/<name> (or `name` itself when dir_fd is AT_FDCWD).
std::string fd_relative_path(int dir_fd, const char* name);

// True when the entry has at least one extended attribute.
bool has_xattrs(int dir_fd, const char* name);
// True only when the entry can be seen to have none (an error answers false): what may be
// recorded as `xattrs = false`.
bool seen_without_xattrs(int dir_fd, const char* name);

// Every extended attribute, names and values sorted by name, as one comparable string:
// two entries with the same xattrs in a different order give the same signature; an entry
// whose xattrs cannot be read gives a signature equal to no other entry's.
std::string xattr_signature(int dir_fd, const char* name);

}  // namespace bkp
