// `bkp repair`: rebuilds journals that bkp refuses to build on (damaged, missing, or silent
// about folders that are there), so runs can go on. It never deletes or moves a snapshot.
#pragma once

namespace bkp {

int repair_command(int argc, const char* const argv[]);

}  // namespace bkp
