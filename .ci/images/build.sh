#!/usr/bin/env bash
# Builds the images the Docker test harness starts with testcontainers. CI has
# no image registry (Docker Hub is unreachable), so nothing can be pulled; they
# are built here, FROM scratch, from Debian packages and the npm registry:
#   redis:7-alpine          the harness's (and docker-compose.yml's) Redis image
#                           under its usual tag, but Debian's redis-server 7.0
#   workshop-maildev:local  MailDev on Debian's Node 18 (SMTP 1025, web 1080)
#   mailhog/mailhog:latest  the real MailHog under its usual tag, from the
#                           static binary that MAILHOG_BIN names (SMTP 1025,
#                           web inbox and API 8025)
# Usage, as root, from any directory: .ci/images/build.sh [redis] [maildev] [mailhog]
# (redis and maildev when no argument). Re-running rebuilds and retags;
# remove.sh undoes it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/rootfs.sh"

REDIS_TAG=redis:7-alpine
MAILDEV_TAG=workshop-maildev:local
MAILHOG_TAG=mailhog/mailhog:latest
# The newest MailDev whose engines allow Node 18 (3.x needs Node >= 20).
MAILDEV_VERSION=2.2.1
# Put on both images, so remove.sh and rebuilds can find their old layers.
LABEL=workshop.ci-image

die() {
  echo "build.sh: $*" >&2
  exit 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# docker_build NAME TAG: builds $tmp/NAME (a Dockerfile and rootfs/), then
# drops the image the tag pointed to before, now dangling.
docker_build() {
  local name=$1 tag=$2
  docker build --force-rm --label "$LABEL=$name" -t "$tag" "$tmp/$name" >"$tmp/$name.log" 2>&1 ||
    { cat "$tmp/$name.log" >&2; die "docker build of $tag failed (log above)"; }
  docker image prune -f --filter "label=$LABEL=$name" >/dev/null
}

build_redis() {
  local root=$tmp/redis/rootfs server cli
  if ! command -v redis-server >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  fi
  server=$(command -v redis-server)
  cli=$(command -v redis-cli) || die "redis-cli not found (Debian's redis-tools)"
  new_rootfs "$root"
  mkdir -p "$root/data" "$root/usr/local/bin"
  # /bin/sh (dash) runs the entrypoint below.
  add_files "$root" "$server" "$cli" /bin/sh
  add_libs "$root" "$server" "$cli" /bin/sh
  env -i "$(command -v chroot)" "$root" "$server" --version >/dev/null || die "redis-server does not run in the rootfs"
  # Debian's redis-server keeps protected mode on, which refuses clients from
  # outside the container (through a published port) when there is no password.
  # The official image compiles it off; this does the same unless told otherwise.
  cat >"$root/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
if [ "$1" = redis-server ]; then
  for arg; do [ "$arg" = --protected-mode ] && exec "$@"; done
  exec "$@" --protected-mode no
fi
exec "$@"
EOF
  chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
  cat >"$tmp/redis/Dockerfile" <<'EOF'
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin:/usr/bin:/bin
WORKDIR /data
EXPOSE 6379
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
EOF
  docker_build redis "$REDIS_TAG"
}

# Debian's Node comes from .debs unpacked into the rootfs (not installed on the
# host, whose own node must stay); the few libraries every Debian host has
# (libc, libstdc++, zlib) come from the host through add_libs.
build_maildev() {
  local root=$tmp/maildev/rootfs debs=$tmp/debs ver deb
  new_rootfs "$root"
  mkdir -p "$debs"
  # nodejs pinned to libnode108's version: a NodeSource repo may offer a newer nodejs.
  node_version() { apt-cache show --no-all-versions libnode108 2>/dev/null | awk '/^Version:/ { print $2 }'; }
  ver=$(node_version)
  [ -n "$ver" ] || { apt-get update -qq && ver=$(node_version); }
  [ -n "$ver" ] || die "apt knows no libnode108 (Debian's Node 18)"
  # libnode108 loads acorn, cjs-module-lexer and undici from /usr/share/nodejs.
  local pkgs=("nodejs=$ver" libnode108 node-acorn node-cjs-module-lexer node-undici
    libuv1 libc-ares2 libicu72 libnghttp2-14 libbrotli1 libssl3)
  download() { (cd "$debs" && apt-get download -qq -o APT::Sandbox::User=root "${pkgs[@]}"); }
  # Stale package lists point at versions the mirror no longer has.
  download || { apt-get update -qq && download; } || die "apt-get download ${pkgs[*]} failed"
  for deb in "$debs"/*.deb; do dpkg -x "$deb" "$root"; done
  merge_usr "$root"
  rm -rf "$root"/usr/share/{doc,man,lintian}
  add_libs "$root" "$root/usr/bin/node"
  # In a chroot, so a library missing from the rootfs shows up here.
  env -i "$(command -v chroot)" "$root" /usr/bin/node -e 'process.versions.node.startsWith("18.") || process.exit(1)' ||
    die "Debian's node $ver does not run in the rootfs"
  npm install --prefix "$root/opt/maildev" "maildev@$MAILDEV_VERSION" --omit=dev \
    --no-package-lock --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null ||
    die "npm install maildev@$MAILDEV_VERSION failed"
  cat >"$tmp/maildev/Dockerfile" <<'EOF'
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin:/usr/bin:/bin MAILDEV_IP=0.0.0.0 MAILDEV_SMTP_PORT=1025 MAILDEV_WEB_PORT=1080
EXPOSE 1025 1080
CMD ["node", "/opt/maildev/node_modules/maildev/bin/maildev"]
EOF
  docker_build maildev "$MAILDEV_TAG"
}

# MailHog is one static Go binary: the image holds it alone, as the published one does.
build_mailhog() {
  local root=$tmp/mailhog/rootfs bin=${MAILHOG_BIN-}
  [ -n "$bin" ] || die "set MAILHOG_BIN to a MailHog binary to build $MAILHOG_TAG"
  [ -x "$bin" ] || die "MAILHOG_BIN=$bin is not an executable file"
  # ldd fails on a static binary, and lists libraries for any other.
  ! ldd "$bin" >/dev/null 2>&1 || die "MAILHOG_BIN=$bin is not a static binary"
  mkdir -p "$root"
  cp -L "$bin" "$root/mailhog"
  cat >"$tmp/mailhog/Dockerfile" <<'EOF'
FROM scratch
COPY rootfs/ /
EXPOSE 1025 8025
ENTRYPOINT ["/mailhog"]
EOF
  docker_build mailhog "$MAILHOG_TAG"
}

declare -A tags=([redis]=$REDIS_TAG [maildev]=$MAILDEV_TAG [mailhog]=$MAILHOG_TAG)
[ $# -gt 0 ] || set -- redis maildev
for name; do
  [ -n "${tags[$name]-}" ] || die "unknown image '$name' (expected: redis, maildev, mailhog)"
done
docker info >/dev/null 2>&1 || die "no Docker engine answers (is dockerd running?)"

for name; do
  start=$(date +%s.%N)
  "build_$name"
  size=$(docker image inspect -f '{{.Size}}' "${tags[$name]}")
  awk -v n="$name" -v t="${tags[$name]}" -v s="$start" -v e="$(date +%s.%N)" -v b="$size" \
    'BEGIN { printf "%s: built %s in %.1f s, %.1f MB\n", n, t, e - s, b / 1e6 }'
done
