#!/usr/bin/env bash
# Installs PostgreSQL 15 and pgvector on a Debian bookworm machine, skipping
# whatever is already present. Bookworm does not package pgvector, so it is
# built from Debian's own trixie source package against the PostgreSQL 15
# pg_config; that takes seconds, not minutes.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
need_apt=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || need_apt+=(postgresql-15 postgresql-contrib)
[ -x "$PG_CONFIG" ] && [ -d "$($PG_CONFIG --includedir-server 2>/dev/null)" ] || need_apt+=(postgresql-server-dev-15)
command -v dpkg-source >/dev/null || need_apt+=(dpkg-dev)
command -v make >/dev/null || need_apt+=(make)
# The test cluster serves TLS with a certificate openssl makes.
command -v openssl >/dev/null || need_apt+=(openssl)
command -v gcc >/dev/null || need_apt+=(gcc)

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

sharedir=$($PG_CONFIG --sharedir)
if [ -f "$sharedir/extension/vector.control" ]; then
  echo "pgvector already installed"
  exit 0
fi

echo "building pgvector from Debian trixie's source package"
list=/etc/apt/sources.list.d/schemagen-trixie-src.list
if [ ! -f "$list" ]; then
  echo "deb-src http://deb.debian.org/debian trixie main" | as_root tee "$list" >/dev/null
  as_root apt-get update -qq
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(
  cd "$work"
  apt-get source --download-only pgvector >/dev/null 2>&1
  dpkg-source -x --no-check ./pgvector_*.dsc src >/dev/null
  cd src
  make -s PG_CONFIG="$PG_CONFIG" OPTFLAGS="" >/dev/null
  as_root make -s PG_CONFIG="$PG_CONFIG" install >/dev/null
)
test -f "$sharedir/extension/vector.control"
echo "pgvector installed"
