#!/usr/bin/env bash
# Fails when a lower layer includes a higher one. The order (low to high):
#   core < formats < kernels < model < runtime < server, with text depending on core only,
#   eval above runtime, and cli above everything.
set -euo pipefail
src=${1:-src}
rank() {
  case $1 in
    core) echo 0 ;; formats) echo 1 ;; kernels) echo 2 ;; model) echo 3 ;; runtime) echo 4 ;;
    text) echo 1 ;; eval) echo 5 ;; server) echo 5 ;; cli) echo 9 ;; *) echo 99 ;;
  esac
}
status=0
while IFS= read -r file; do
  layer=$(basename "$(dirname "$file")")
  own=$(rank "$layer")
  while IFS= read -r included; do
    target=${included%%/*}
    other=$(rank "$target")
    [ "$other" = 99 ] && continue
    bad=0
    [ "$other" -gt "$own" ] && bad=1
    # text sits beside formats but may use core only; nothing below runtime may use text.
    [ "$layer" = text ] && [ "$target" != core ] && [ "$target" != text ] && bad=1
    [ "$target" = text ] && [ "$own" -lt 4 ] && [ "$layer" != text ] && bad=1
    if [ $bad = 1 ]; then
      echo "layer violation: $file includes $included"
      status=1
    fi
  done < <(grep -hoE '^#include "[^"]+"' "$file" | sed -E 's/#include "([^"]+)"/\1/')
done < <(find "$src" -name '*.h' -o -name '*.cpp')
[ $status = 0 ] && echo "layers: ok"
exit $status
