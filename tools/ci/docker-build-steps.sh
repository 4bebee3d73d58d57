#!/usr/bin/env bash
# Replays the Dockerfile's build steps without a Docker engine and smoke-runs the result.
#
#   bash tools/ci/docker-build-steps.sh            # fast: reuses the npm cache and a cached
#                                                 # better-sqlite3 binary from an earlier run
#   METAPIXEL_REPLAY_FRESH=1 bash tools/ci/docker-build-steps.sh   # compile better-sqlite3 again
#   METAPIXEL_REPLAY_KEEP=1 ...                   # keep the temp dir for inspection
#
# In a temp dir it copies the build context (filtered by .dockerignore), runs each stage's
# COPY and RUN instructions as written in the Dockerfile (npm ci, npm run build, npm prune
# --omit=dev, ...), assembles the runtime stage from COPY --from lines only, then starts
# CMD from that stage (free ports, temp dir for the /data volume, uid 1000 when run as
# root), waits for /healthz, runs the HEALTHCHECK command, checks /readyz and the gRPC
# port, sends SIGTERM and expects exit status 0; then, if the project's node_modules has
# jongodb, the same with two instances sharing one jongodb (MONGODB_URI), as replicas.
# See tools/ci/dockerfile-replay.mjs.
#
# Cache: in a real `docker build` better-sqlite3's install step downloads a prebuilt binary
# from GitHub; here GitHub is unreachable, so it compiles from source (~1.5 min on 2 cores).
# The compiled binary is kept in .tools/prebuilds/ and handed to prebuild-install as a
# "local prebuild" on later runs (named by package version, Node ABI, platform and arch,
# so a version bump misses the cache and compiles again).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
started=$(date +%s)

# The replay writes ~1 GB of small files and deletes them again: on tmpfs when there is room.
tmp_base=${METAPIXEL_REPLAY_TMP:-}
if [[ -z "$tmp_base" ]]; then
  tmp_base=/tmp
  if [[ -d /dev/shm && -w /dev/shm ]] && (( $(df -Pk /dev/shm | awk 'NR==2{print $4}') > 4*1024*1024 )); then tmp_base=/dev/shm; fi
fi
work=$(mktemp -d "$tmp_base/metapixel-docker-replay.XXXXXX")
jongodb_pid=
cleanup() {
  [[ -n "$jongodb_pid" ]] && kill "$jongodb_pid" 2>/dev/null
  echo "== removing $work"
  if [[ "${METAPIXEL_REPLAY_KEEP:-}" == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

prebuilds="$root/.tools/prebuilds"
mkdir -p "$prebuilds"
bsq_version=$(node -p "require('./package-lock.json').packages['node_modules/better-sqlite3'].version")
abi=$(node -p 'process.versions.modules')
prebuild_name="better-sqlite3-v${bsq_version}-node-v${abi}-$(node -p 'process.platform')-$(node -p 'process.arch').tar.gz"
if [[ "${METAPIXEL_REPLAY_FRESH:-}" == 1 ]]; then
  echo "== fresh: better-sqlite3 compiles from source"
  rm -f "$prebuilds/$prebuild_name"
elif [[ -f "$prebuilds/$prebuild_name" ]]; then
  echo "== using cached better-sqlite3 binary .tools/prebuilds/$prebuild_name"
fi
# prebuild-install reads its options with rc, which also finds a .prebuild-installrc in
# any directory above the one it runs in: one in the replay's temp dir hands it the cache.
# (The npm_config_better_sqlite3_local_prebuilds variable would do the same but makes
# npm 11 warn "Unknown env config" on every npm command of the replay.)
printf 'local-prebuilds=%s\n' "$prebuilds" > "$work/.prebuild-installrc"
export ONNXRUNTIME_NODE_INSTALL=skip

# Two replicas on one MongoDB as well, when the project's dev dependencies are installed:
# jongodb (see docs/jongodb.md) stands in for MongoDB. Skipped otherwise (or with
# METAPIXEL_REPLAY_MONGO=0).
mongo_args=()
jongodb=node_modules/@jongodb/memory-server-bin-linux-x64-gnu/bin/jongodb
if [[ "${METAPIXEL_REPLAY_MONGO:-1}" != 0 && -x "$jongodb" ]]; then
  "$jongodb" --host=127.0.0.1 --port=0 >"$work/jongodb.log" 2>&1 &
  jongodb_pid=$!
  for _ in $(seq 1 100); do grep -q '^JONGODB_URI=' "$work/jongodb.log" && break; sleep 0.1; done
  port=$(sed -n 's/^JONGODB_URI=mongodb:\/\/[^:]*:\([0-9]*\).*/\1/p' "$work/jongodb.log" | head -1)
  if [[ -n "$port" ]]; then
    mongo_args=(--mongo-uri "mongodb://127.0.0.1:$port/metapixel_replay?directConnection=true")
    echo "== jongodb on port $port (pid $jongodb_pid) for the two-replica round"
  else
    echo "== jongodb did not start; skipping the two-replica round"; cat "$work/jongodb.log"
  fi
else
  echo "== no jongodb in node_modules (run npm ci first): skipping the two-replica MongoDB round"
fi

node tools/ci/dockerfile-replay.mjs --context . --dockerfile Dockerfile --work "$work" --smoke "${mongo_args[@]}"

# Keep the binary the build produced for the next run (only the .node file, as a prebuild).
built="$work/stages/build/app/node_modules/better-sqlite3/build/Release/better_sqlite3.node"
if [[ ! -f "$prebuilds/$prebuild_name" && -f "$built" ]]; then
  tar -C "$work/stages/build/app/node_modules/better-sqlite3" -czf "$prebuilds/$prebuild_name.tmp" build/Release/better_sqlite3.node
  mv "$prebuilds/$prebuild_name.tmp" "$prebuilds/$prebuild_name"
  echo "== cached .tools/prebuilds/$prebuild_name for later runs"
fi
echo "== docker build steps replayed and smoke-tested in $(( $(date +%s) - started ))s"
