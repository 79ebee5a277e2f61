# rare-mine container image.
#
#   docker build -t rare-mine .
#   docker run -i --rm -v "$PWD:/data" rare-mine bm25 /data/in.jsonl > out.jsonl
#
# BASE_IMAGE is any Debian-based Node 20 image with node + npm on PATH. The default is the official
# image; machines without a container registry build a local stand-in (debootstrap bookworm + Node 20)
# with .ci/docker/make-base-image.sh and pass
#   --build-arg BASE_IMAGE=localhost/rare-mine-base/node:20-bookworm
# See docs/DOCKER.md.
ARG BASE_IMAGE=docker.io/library/node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------------
# Build stage: npm ci, production node_modules (npm prune --omit=dev), TypeScript build.
FROM ${BASE_IMAGE} AS build
# onnxruntime-node's postinstall would download GPU binaries; the CPU binaries ship in the package.
# Skipped both ways (this env + .npmrc), and install scripts are not run at all: usearch and
# onnxruntime-node ship prebuilt binaries, so no compiler is needed and npm 10 and 11 behave the same.
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Optional build secret `npm_ca`: a CA bundle for a TLS-intercepting proxy in front of the npm registry
# (--secret id=npm_ca,src=/etc/ssl/certs/ca-certificates.crt). It is never stored in a layer.
RUN --mount=type=secret,id=npm_ca \
    --mount=type=cache,target=/root/.npm,sharing=locked \
    if [ -s /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi; \
    npm ci --ignore-scripts
# The production node_modules go to /prod before the sources are copied, so this layer stays cached
# until the lockfile changes. Besides the dev dependencies, drop the native binaries for other
# platforms (onnxruntime-node ships darwin/win32/linux x arm64/x64: ~250 MB the image can never load).
# This stage runs on the target platform, so process.arch is the image's (also under buildx --platform).
RUN mkdir /prod \
 && cp -a package.json package-lock.json .npmrc node_modules /prod/ \
 && cd /prod \
 && npm prune --omit=dev --ignore-scripts \
 && arch="$(node -p process.arch)" \
 && for d in node_modules/onnxruntime-node/bin/napi-v*/*/*; do \
      case "$d" in */linux/"$arch") ;; *) rm -rf "$d" ;; esac; \
    done \
 && for d in node_modules/usearch/prebuilds/*; do \
      case "$d" in */linux-"$arch") ;; *) rm -rf "$d" ;; esac; \
    done \
 && ls node_modules/onnxruntime-node/bin/napi-v*/linux/"$arch"/onnxruntime_binding.node \
       node_modules/usearch/prebuilds/linux-"$arch"/*.node
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
# tsconfig also includes test/ and bench/, which are not in the build context (.dockerignore), so only
# dist/src is built.
RUN npx tsc -p tsconfig.json \
 && test -f dist/src/app/main.js \
 && chmod 0755 bin/rare-mine.js

# ---------------------------------------------------------------------------------------------------
# Runtime stage: dist/, bin/, production node_modules and package.json only; runs as a non-root user.
FROM ${BASE_IMAGE} AS runtime
ENV NODE_ENV=production \
    ONNXRUNTIME_NODE_INSTALL=skip
# The official node images already have user `node` (1000:1000); create it on any other base.
RUN if ! id -u node >/dev/null 2>&1; then \
      groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/sh --create-home node; \
    fi \
 && mkdir -p /data \
 && chown node:node /data
WORKDIR /app
# Application files stay root-owned (read-only for the user that runs them). Dependencies first: that
# layer is reused as long as the lockfile does not change.
COPY --from=build /prod/node_modules ./node_modules
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
RUN ln -s /app/bin/rare-mine.js /usr/local/bin/rare-mine \
 && rare-mine --version
USER node
WORKDIR /data
LABEL org.opencontainers.image.title="rare-mine" \
      org.opencontainers.image.description="Mine hard negatives for retrieval training from JSONL (BM25 and dense)" \
      org.opencontainers.image.licenses="Apache-2.0"
ENTRYPOINT ["rare-mine"]
CMD ["--help"]
