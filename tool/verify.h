#pragma once

namespace bkp {

// bkp verify -d DEST [SNAPSHOT...] [--subset K/N|P%] [--record] [--json]: reads snapshots
// and compares them with their checksum records (lib/verify.h). Exit 0 clean, 1 damage
// found (or a record lost), 2 usage.
int verify_command(int argc, const char* const argv[]);

}  // namespace bkp
