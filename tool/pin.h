// `bkp pin` / `bkp unpin`: a pinned snapshot is never removed by prune.
#pragma once

namespace bkp {

int pin_command(int argc, const char* const argv[]);
int unpin_command(int argc, const char* const argv[]);

}  // namespace bkp
