# syntax=docker/dockerfile:1
#
# Metapixel container image: two stages.
#   build   - installs every dependency, compiles TypeScript, prunes dev dependencies
#   runtime - node + the pruned node_modules + dist/ + models/, run as the non-root "node" user
#
# No Docker engine is available on the development machines, so CI replays the steps of
# this file outside a container with tools/ci/docker-build-steps.sh (it reads this file:
# keep RUN commands relative to WORKDIR; a RUN preceded by a "# ci-replay: skip" comment
# only makes sense inside the image and is not replayed). Lint: tools/ci/lint-dockerfile.sh.
#
#   docker build -t metapixel .
#   docker run -p 8080:8080 -p 50051:50051 -v metapixel-data:/data metapixel

ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# onnxruntime-node's postinstall would fetch CUDA files. package.json's allowScripts denies
# it (npm 11); the image's npm 10 does not read allowScripts, so the variable says the same.
ENV ONNXRUNTIME_NODE_INSTALL=skip

# Toolchain for node-gyp: better-sqlite3 falls back to compiling from source when its
# prebuilt binary cannot be downloaded (offline or proxied builds, other architectures).
# Only the build stage has it.
# ci-replay: skip (installs packages into the image; the host already has them)
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*

COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# Metapixel's own .proto files (Google's come from node_modules at run time)
COPY protos ./protos
# The web console's sources (bundled into dist/console by the build)
COPY console ./console
RUN npm run build

RUN npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/onnxruntime-node/bin/napi-v*/darwin \
           node_modules/onnxruntime-node/bin/napi-v*/win32 \
           node_modules/better-sqlite3/build/Release/obj \
           node_modules/better-sqlite3/build/Release/obj.target \
           node_modules/better-sqlite3/build/Release/.deps \
           node_modules/better-sqlite3/deps

FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
# glibc's mmap threshold fixed at 4 MiB and its trim threshold at 64 MiB, as `npm start`
# sets them (docs/deployment.md): left to grow, the mmap threshold lets an index build's
# freed blocks stay in the heap as RSS.
ENV NODE_ENV=production \
    PORT=8080 \
    GRPC_PORT=50051 \
    METAPIXEL_DATA_DIR=/data \
    MALLOC_MMAP_THRESHOLD_=4194304 \
    MALLOC_TRIM_THRESHOLD_=67108864

# The "node" user (uid 1000) comes with the official image. Code stays root-owned and
# read-only to it; only /data is writable.
# ci-replay: skip (creates the data directory inside the image; the replay uses a temp dir)
RUN mkdir -p /data && chown node:node /data

COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/protos ./protos
COPY models ./models

USER node
VOLUME ["/data"]
EXPOSE 8080 50051

HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# node is PID 1 and handles SIGTERM itself (drains calls, exits 0).
CMD ["node", "dist/app/main.js"]
