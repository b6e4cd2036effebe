# One image for the api, the orchestrator and the runner; docker-compose.yml picks the entry point.
# The web console is built in a stage of its own (Vite and the UI libraries are devDependencies).
FROM node:20-bookworm-slim AS console
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web ./web
RUN npx vite build web

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends umoci bubblewrap busybox-static qemu-system-x86 cpio ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
COPY --from=console /app/web/dist ./web/dist
ENV NODE_ENV=production
# The build every process reports (GET /v0/status, runner registration), for an image without .git:
# docker build --build-arg BENCHLINE_GIT_SHA=$(git rev-parse HEAD) --build-arg BUILD_ID=<ci run> .
ARG BENCHLINE_GIT_SHA=
ARG BUILD_ID=
ENV BENCHLINE_GIT_SHA=$BENCHLINE_GIT_SHA BUILD_ID=$BUILD_ID
# The api and the orchestrator need BENCHLINE_SECRETS_KEY at run time (never baked into the image):
# docker run -e BENCHLINE_SECRETS_KEY="$(openssl rand -base64 32)" … (the same key for every replica, kept).
# e.g. api/main.ts, orchestrator/main.ts, runner/main.ts
ENTRYPOINT ["node", "--require", "/app/node_modules/tsx/dist/cjs/index.cjs"]
