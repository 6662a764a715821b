// spdlog set-up shared by bkp's commands: "bkp: level: message" on stderr, -v/-q, --log-file.
#pragma once

#include "cli.h"

namespace bkp {

void setup_logging(const LogOptions& options);

}  // namespace bkp
