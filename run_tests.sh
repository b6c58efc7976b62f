#!/usr/bin/env bash
# The test command: set up the environment if needed, then run the whole test suite (CI runs exactly this).
# Extra arguments go to pytest, e.g. ./run_tests.sh -m "not slow".
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup_env.sh
exec python -m pytest "$@"
