# epochgate container image: multi-stage, current Node LTS on Debian slim (glibc: better-sqlite3 is native).
# The same steps are exercised without Docker by .ci/dockerfile-steps.mjs (run by .ci/run), except apt-get,
# chown, USER and the base image, which it lists as not checked.

FROM node:24-bookworm-slim AS build
WORKDIR /app
# Toolchain for the native better-sqlite3 addon when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
COPY policies ./policies
# State (SQLite, keys, audit) lives in /app/var, owned by the unprivileged user; mount a volume there.
RUN mkdir -p /app/var && chown node:node /app/var
USER node
EXPOSE 8080 8081
# Inside a container the listeners must bind all interfaces; the config stays the shipped example.
ENTRYPOINT ["node", "dist/main.js"]
CMD ["serve", "--config", "config/epochgate.yaml", "--listen-data", "0.0.0.0:8080", "--listen-control", "0.0.0.0:8081"]
