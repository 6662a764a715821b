// `bkp status -d DEST [--max-age D] [--json]`: a health check for monitoring (Nagios,
// Icinga, a systemd OnFailure= unit). The first line on stdout is a one-line summary;
// exit 0 when healthy, 1 when not (one line on stderr says why), 2 on a usage error.
// Reads DEST only (lib/health.h decides).
#pragma once

namespace bkp {

int status_command(int argc, const char* const argv[]);

}  // namespace bkp
