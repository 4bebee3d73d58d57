#!/usr/bin/env bash
# All deployment checks in one go (each script also runs on its own):
#   bash tools/ci/deploy-checks.sh            # lint, compose, helm, then the image replay
#   bash tools/ci/deploy-checks.sh --quick    # skip the image replay (the slow one)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
checks=(lint-dockerfile.sh compose-check.sh helm-check.sh)
[[ "${1:-}" == --quick ]] || checks+=(docker-build-steps.sh)
failed=()
summary=()
for c in "${checks[@]}"; do
  echo "######## tools/ci/$c"
  t0=$(date +%s)
  if bash "tools/ci/$c"; then r=ok; else r=FAILED; failed+=("$c"); fi
  summary+=("$(printf '%-24s %-6s %4ss' "$c" "$r" $(( $(date +%s) - t0 )))")
done
echo "######## summary"
printf '%s\n' "${summary[@]}"
[[ ${#failed[@]} == 0 ]] || { echo "failed: ${failed[*]}"; exit 1; }
