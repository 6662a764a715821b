// `bkp list`: series, snapshots, status and the space each snapshot uses.
#pragma once

#include "options.h"

namespace bkp {

int run_list(const ListOptions& options);

}  // namespace bkp
