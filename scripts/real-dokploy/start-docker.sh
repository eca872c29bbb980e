#!/usr/bin/env bash
# Starts the official Dokploy image on this machine's Docker, as Dokploy's installer lays it out:
# a single-node swarm, the overlay network "dokploy-network", Postgres and Redis services (Redis
# carries the build queue before v0.29.9), and Dokploy itself publishing port 3000. Traefik is left
# out: the conformance suite talks to the API only. Used by .github/workflows/real-dokploy.yml; a
# throwaway machine is assumed (it leaves the swarm it finds).
#   DOKPLOY_VERSION=v0.30.2 scripts/real-dokploy/start-docker.sh
set -euo pipefail
VERSION=${DOKPLOY_VERSION:?set DOKPLOY_VERSION, e.g. v0.30.2}
PORT=${DOKPLOY_PORT:-3000}
# a fresh random password for this throwaway database; never printed
PG_PASSWORD=$(openssl rand -hex 16)

docker swarm leave --force >/dev/null 2>&1 || true
docker swarm init --advertise-addr 127.0.0.1 >/dev/null
docker network create --driver overlay --attachable dokploy-network >/dev/null
sudo mkdir -p /etc/dokploy && sudo chmod 777 /etc/dokploy

docker service create --detach --name dokploy-postgres --network dokploy-network \
  --constraint 'node.role==manager' \
  --env POSTGRES_USER=dokploy --env POSTGRES_DB=dokploy --env POSTGRES_PASSWORD="$PG_PASSWORD" \
  --mount type=volume,source=dokploy-postgres-database,target=/var/lib/postgresql/data \
  postgres:16 >/dev/null
docker service create --detach --name dokploy-redis --network dokploy-network \
  --constraint 'node.role==manager' \
  --mount type=volume,source=redis-data-volume,target=/data \
  redis:7 >/dev/null

docker service create --detach --name dokploy --replicas 1 --network dokploy-network \
  --constraint 'node.role==manager' \
  --mount type=bind,source=/var/run/docker.sock,target=/var/run/docker.sock \
  --mount type=bind,source=/etc/dokploy,target=/etc/dokploy \
  --mount type=volume,source=dokploy-docker-config,target=/root/.docker \
  --publish published="$PORT",target=3000,mode=host \
  --env ADVERTISE_ADDR=127.0.0.1 \
  --env DATABASE_URL="postgres://dokploy:${PG_PASSWORD}@dokploy-postgres:5432/dokploy" \
  "dokploy/dokploy:${VERSION}" >/dev/null

echo "Waiting for Dokploy ${VERSION} on http://127.0.0.1:${PORT} …"
for _ in $(seq 1 180); do
  if curl -fsS -m 5 -o /dev/null "http://127.0.0.1:${PORT}/api/trpc/settings.health" 2>/dev/null; then
    echo "Dokploy ${VERSION} answers."
    exit 0
  fi
  sleep 2
done
echo "Dokploy did not answer within 6 minutes; its service log:" >&2
docker service logs --tail 80 dokploy >&2 || true
exit 1
