// `bkp diff`: what changed between two snapshots, by the rule increments and bkpfs's
// changes/ view use (lib/tree_diff.h).
#pragma once

namespace bkp {

int diff_command(int argc, const char* const argv[]);

}  // namespace bkp
