#!/usr/bin/env bash
# Lints the Dockerfile:
#   1. dockerfile-utils (the linter behind the Docker language server used by VS Code and
#      other editors; from npm, pinned below): syntax, flags, instruction arguments.
#      Warnings count as failures.
#   2. tools/ci/dockerfile-policy.mjs: project rules (base image pinned to x.y.z, non-root
#      USER, HEALTHCHECK, exec-form CMD, apt hygiene, npm ci, no ADD).
#   3. .dockerignore exists and keeps node_modules, dist, data and .git out of the context.
#   4. self-test: both must reject test/deploy/fixtures/invalid.Dockerfile.
#
#   bash tools/ci/lint-dockerfile.sh [Dockerfile]
# The linter is installed with npm into .tools/ (not into the project's node_modules).
set -euo pipefail
cd "$(dirname "$0")/../.."
LINTER=dockerfile-utils@0.16.3
file=${1:-Dockerfile}
prefix=.tools/npm/dockerfile-utils-0.16.3
bin="$prefix/node_modules/.bin/dockerfile-utils"
if [[ ! -x "$bin" ]]; then
  mkdir -p "$prefix"
  npm install --no-save --no-audit --no-fund --no-package-lock --loglevel=error --prefix "$prefix" "$LINTER" >/dev/null
fi

# prints the findings; returns the number of diagnostics (0 = clean)
lint() {
  "$bin" lint "$1" || true
  { "$bin" lint --json "$1" || true; } | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).length));'
}

echo "== $("$bin" --version)"
status=0
count=$(lint "$file" | tee /dev/stderr | tail -1) 2>&1
if [[ "$count" != 0 ]]; then echo "dockerfile-utils: $count diagnostic(s) in $file"; status=1; else echo "dockerfile-utils: no diagnostics in $file"; fi
node tools/ci/dockerfile-policy.mjs "$file" || status=1

if [[ -f .dockerignore ]]; then
  for must in node_modules dist data .git; do
    grep -qxF "$must" .dockerignore || { echo ".dockerignore does not exclude $must"; status=1; }
  done
else
  echo "missing .dockerignore"; status=1
fi

if [[ "$file" == Dockerfile ]]; then
  bad=test/deploy/fixtures/invalid.Dockerfile
  n=$({ "$bin" lint --json "$bad" || true; } | node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>console.log(JSON.parse(s).length))') || true
  if [[ "${n:-0}" == 0 ]]; then echo "FAIL: dockerfile-utils found nothing in $bad"; status=1; fi
  if node tools/ci/dockerfile-policy.mjs "$bad" >/dev/null; then echo "FAIL: dockerfile-policy accepted $bad"; status=1; fi
  [[ $status == 0 ]] && echo "ok   self-test: $bad rejected ($n linter diagnostic(s) and project-rule findings)"
fi
exit $status
