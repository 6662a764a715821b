// Writing files bkp owns (journals, metrics, repair copies) so that a crash or a planted
// symlink can never leave a torn file or redirect a write: everything is created relative
// to an open directory with O_EXCL|O_NOFOLLOW, and replaced with renameat in that directory.
#pragma once

#include <string>

namespace bkp {

// Who makes a written file durable: the write itself (fsync of the file and the directory),
// or a caller that syncs the whole filesystem next (one journal commit instead of three).
enum class Durability { fsync, caller_syncs };

// Replaces `name` in the open directory `dir_fd` (O_RDONLY|O_DIRECTORY) with `text`:
// a new temporary file ".<name>.<pid>.<n>.tmp" is written, fsynced and renamed over `name`,
// then the directory is fsynced (both unless `durability` leaves it to the caller). Throws
// std::system_error naming the file.
void replace_file_atomically(int dir_fd, const std::string& name, const std::string& text, unsigned mode = 0644,
                             Durability durability = Durability::fsync);

// Creates `name` (which must not exist) holding `text`, fsynced. Throws std::system_error.
void write_new_file(int dir_fd, const std::string& name, const std::string& text, unsigned mode = 0644);

}  // namespace bkp
