# Helpers for build.sh: fill a directory that a `FROM scratch` image copies to /.
# Sourced, not run.

# new_rootfs DIR: an empty merged-/usr tree (/bin, /lib, /lib64, /sbin link into
# /usr, as on the host), with /tmp. ldd prints /lib/... paths; through the links
# they land in /usr/lib, next to the libraries unpacked from .debs.
new_rootfs() {
  local root=$1 d
  mkdir -p "$root"/usr/{bin,lib,lib64,sbin} "$root"/{etc,tmp}
  chmod 1777 "$root/tmp"
  for d in bin lib lib64 sbin; do ln -s "usr/$d" "$root/$d"; done
}

# merge_usr DIR: after `dpkg -x`, move what a .deb put in /lib, /bin... (a
# real directory replaces the link) back under /usr and restore the link.
merge_usr() {
  local root=$1 d
  for d in bin lib lib64 sbin; do
    if [ -d "$root/$d" ] && [ ! -L "$root/$d" ]; then
      cp -a "$root/$d/." "$root/usr/$d/"
      rm -rf "${root:?}/$d"
      ln -s "usr/$d" "$root/$d"
    fi
  done
}

# add_files ROOT FILE...: copies each host FILE to the same path under ROOT,
# following symlinks (redis-server is a link to redis-check-rdb).
add_files() {
  local root=$1 f
  shift
  for f in "$@"; do
    mkdir -p "$root$(dirname "$f")"
    cp -L "$f" "$root$f"
  done
}

# add_libs ROOT BINARY...: copies into ROOT the shared libraries ldd lists for
# each BINARY (a path on the host or under ROOT) and the dynamic loader.
# Libraries already under ROOT are found first (LD_LIBRARY_PATH) and kept.
add_libs() {
  local root=$1 bin out lib libpath
  shift
  libpath=$(find "$root" -name '*.so*' -printf '%h\n' | sort -u | paste -sd:)
  for bin in "$@"; do
    out=$(LD_LIBRARY_PATH=$libpath ldd "$bin") || { echo "ldd failed on $bin" >&2; return 1; }
    if grep -q 'not found' <<<"$out"; then
      echo "missing libraries for $bin (not under $root, not on the host):" >&2
      grep 'not found' <<<"$out" >&2
      return 1
    fi
    # "libx.so => /path (addr)" and, for the loader, "/lib64/ld-... (addr)".
    for lib in $(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$out"); do
      case $lib in "$root"/*) continue ;; esac
      [ -e "$root$lib" ] || add_files "$root" "$lib"
    done
  done
}
