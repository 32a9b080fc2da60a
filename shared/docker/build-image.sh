#!/bin/bash
# Builds a server image from Debian's packages, for machines with Docker but no image registry.
#
#   shared/docker/build-image.sh mysql     # MySQL from Debian sid (mysql-server-core)
#   shared/docker/build-image.sh mariadb   # MariaDB from Debian bookworm (mariadb-server-core)
#
# Prints the image's tag on stdout, e.g. `workbook/mysql:9.7.4-2`: the exact version of the
# Debian package the build got (sid moves). Everything else goes to stderr. An image that is
# already there is reused; `--rebuild` builds it anew.
#
# Needs root, Docker, and debootstrap (`apt-get install debootstrap`). The Debian root is kept in
# $WORKBOOK_CACHE (default /var/cache/workbook), so a second build skips debootstrap.
set -euo pipefail

flavor=${1:-mysql}
rebuild=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
cache=${WORKBOOK_CACHE:-/var/cache/workbook}
say() { echo "build-image: $*" >&2; }

case "$flavor" in
  mysql) suite=sid; packages=mysql-server-core,mysql-client-core; package=mysql-server-core ;;
  mariadb)
    suite=bookworm; packages=mariadb-server-core,mariadb-client-core; package=mariadb-server-core
    ;;
  *) say "unknown flavour '$flavor': use mysql or mariadb"; exit 2 ;;
esac
repo=workbook/$flavor
alias_tag=$repo:$suite

if [ "$rebuild" != --rebuild ] && docker image inspect "$alias_tag" >/dev/null 2>&1; then
  version=$(docker image inspect -f '{{ index .Config.Labels "version" }}' "$alias_tag")
  say "reusing $repo:$version"
  echo "$repo:$version"
  exit 0
fi

command -v debootstrap >/dev/null || { say "needs debootstrap: apt-get install debootstrap"; exit 1; }

# The Debian mirror this machine's apt already uses, so the build reaches what apt reaches.
mirror=${WORKBOOK_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$(grep -hoE '^(URIs:|deb) +[a-z]+://[^ ]+/debian/?( |$)' \
    /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
    awk '{print $2}' | head -n 1 || true)
fi

root=$cache/$suite-$flavor
if [ "$rebuild" = --rebuild ] || [ ! -d "$root" ]; then
  rm -rf "$root" "$root.partial"
  mkdir -p "$cache"
  say "debootstrap $suite with $packages into $root.partial"
  started=$(date +%s)
  debootstrap --variant=minbase --include="$packages" "$suite" "$root.partial" $mirror >&2
  # Only what the server needs at run time: no package caches, documentation or manuals.
  rm -rf "$root.partial"/var/cache/apt/* "$root.partial"/var/lib/apt/lists/* \
    "$root.partial"/usr/share/doc "$root.partial"/usr/share/man "$root.partial"/usr/share/info
  chroot "$root.partial" sh -c \
    'getent passwd mysql >/dev/null || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin mysql'
  # An ordinary user too, to check that the workbook's local server runs without root.
  chroot "$root.partial" sh -c 'getent passwd reader >/dev/null || useradd --create-home reader'
  mv "$root.partial" "$root"
  say "debootstrap took $(($(date +%s) - started)) s"
fi

version=$(chroot "$root" dpkg-query -W -f='${Version}' "$package")
version=${version%%+*}
install -m 0755 "$here/entrypoint.sh" "$root/usr/local/bin/workbook-entrypoint"
say "importing $repo:$version"
tar -C "$root" -c . | docker import \
  --change 'ENTRYPOINT ["/usr/local/bin/workbook-entrypoint"]' \
  --change 'EXPOSE 3306 33060' \
  --change 'ENV LANG=C.UTF-8' \
  --change "LABEL version=$version" \
  --change "LABEL org.opencontainers.image.description=\"$flavor $version from Debian $suite, built by the workbook\"" \
  - "$repo:$version" >&2
docker tag "$repo:$version" "$alias_tag"
say "built $repo:$version (also tagged $alias_tag)"
echo "$repo:$version"
