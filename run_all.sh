#!/usr/bin/env bash
# The main job: set up the environment if needed, then run the numbered notebooks in order.
#   ./run_all.sh [--profile auto|cpu|t4|smoke] [--run NAME] [--from NN] [--only NN] [--force] [--no-preflight] [-p KEY VALUE ...]
# Before the first step that loads a model it runs `python -m medillama preflight` (checks, memory and time).
# Offline on a CPU by default (profile auto -> cpu when there is no CUDA GPU).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup_env.sh
exec python -m medillama run "$@"
