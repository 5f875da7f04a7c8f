#!/usr/bin/env bash
# Measures how long opening and binding a multi-GB checkpoint takes, and how much memory it
# costs: the weights are memory-mapped, so neither should grow with the checkpoint's size.
# Usage: scripts/bench-load.sh [MODEL_DIR]   (default: a generated 4-layer V4-Flash slice)
set -euo pipefail
cd "$(dirname "$0")/.."
lightseek=${LIGHTSEEK:-build/release/src/lightseek}
model=${1:-models/flash-slice-4x32}
if [ ! -f "$model/config.json" ]; then
  echo "generating $model (V4-Flash dimensions, 4 layers, 32 experts per layer)"
  "$lightseek" gen-model --preset flash-slice --layers 4 --experts 32 -o "$model"
fi
bytes=$(du -cb "$model"/*.safetensors | tail -1 | cut -f1)
echo "checkpoint: $model, $(awk -v b="$bytes" 'BEGIN { printf "%.2f GB", b / 1e9 }')"
printf "%-6s %10s %12s\n" run "wall (s)" "max RSS (MB)"
for run in 1 2 3; do
  out=$( { /usr/bin/time -f "%e %M" "$lightseek" inspect -m "$model" >/dev/null; } 2>&1 | tail -1)
  read -r seconds rss_kb <<<"$out"
  printf "%-6s %10s %12.1f\n" "$run" "$seconds" "$(awk -v k="$rss_kb" 'BEGIN { print k / 1024 }')"
done
