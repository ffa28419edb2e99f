#!/usr/bin/env bash
# Removes the images build.sh made, and any older builds of them left dangling,
# so CI leaves nothing behind. Succeeds when they are already gone.
set -euo pipefail

for tag in redis:7-alpine workshop-maildev:local mailhog/mailhog:latest; do
  # Only ours: an image pulled from Docker Hub has no such label.
  if [ -n "$(docker image inspect -f '{{index .Config.Labels "workshop.ci-image"}}' "$tag" 2>/dev/null)" ]; then
    docker image rm -f "$tag" >/dev/null
    echo "removed $tag"
  fi
done
docker image prune -f --filter label=workshop.ci-image >/dev/null
