// `bkp list`: series, snapshots, status and the space each snapshot uses.
#pragma once

namespace bkp {

int list_command(int argc, const char* const argv[]);

}  // namespace bkp
