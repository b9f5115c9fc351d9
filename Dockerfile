# Keel: the same two commands as the README, `npm run migrate` then `npm start`, in a small image.
# Build:  docker build -t keel .
# Run:    docker run -p 3000:3000 -e JWT_SECRET=<32+ random characters> \
#           -e DATABASE_URL=postgres://user:pass@db:5432/keel keel
#         (without DATABASE_URL the embedded database lives in the /app/data volume)

# 1. Full install, and a type check: an image is only built from code that compiles.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run typecheck

# 2. Runtime: production dependencies only (tsx runs the TypeScript sources, so it is one of them).
FROM node:20-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/tsconfig.json /app/schema.graphql /app/openapi.yaml ./
COPY --from=build /app/migrations ./migrations
COPY --from=build /app/src ./src
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:' + process.env.PORT + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# The README's commands. `npm start` execs the server in place of npm's shell, so the SIGTERM that
# stops the container reaches it: it drains in-flight requests and closes the database.
CMD ["sh", "-c", "npm run migrate && exec npm start"]
