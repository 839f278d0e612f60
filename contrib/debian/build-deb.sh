#!/usr/bin/env bash
# Builds the Debian package iotedge-ts_<version>_<arch>.deb (docs/install.md describes it).
#
#   contrib/debian/build-deb.sh [--out DIR] [--tgz FILE] [--skip-build] [--compress TYPE]
#
#   --out DIR        where the .deb goes (default: the repository root)
#   --tgz FILE       an `npm pack` tarball of this repository to package (default: packs one)
#   --skip-build     use dist/ as it is instead of compiling first
#   --compress TYPE  the archive's compression: xz (default), zstd, gzip or none (fastest)
#
# The app is the npm package with its production dependencies bundled, including better-sqlite3
# built for this machine, so the package's architecture is this machine's (dpkg --print-architecture).
set -euo pipefail

usage() {
  sed -n '4,9s/^# \{0,1\}//p' "$0" >&2
  exit 1
}

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$REPO"
TGZ=""
BUILD=1
COMPRESS=xz
while [ $# -gt 0 ]; do
  case "$1" in
  --out) [ $# -ge 2 ] || usage; OUT="$2"; shift 2 ;;
  --tgz) [ $# -ge 2 ] || usage; TGZ="$2"; shift 2 ;;
  --skip-build) BUILD=0; shift ;;
  --compress) [ $# -ge 2 ] || usage; COMPRESS="$2"; shift 2 ;;
  -h | --help) usage ;;
  *) echo "build-deb.sh: unknown argument \"$1\"" >&2; usage ;;
  esac
done
case "$COMPRESS" in xz | zstd | gzip | none) ;; *) echo "build-deb.sh: --compress: unknown type \"$COMPRESS\"" >&2; usage ;; esac
for tool in dpkg-deb dpkg node npm gzip strip; do
  command -v "$tool" >/dev/null || { echo "build-deb.sh: $tool is missing (apt-get install dpkg-dev binutils)" >&2; exit 1; }
done

# --out and --tgz are relative to where the script was started.
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
if [ -n "$TGZ" ]; then
  [ -f "$TGZ" ] || { echo "build-deb.sh: --tgz $TGZ: no such file" >&2; exit 1; }
  TGZ="$(cd "$(dirname "$TGZ")" && pwd)/$(basename "$TGZ")"
fi

cd "$REPO"
VERSION="$(node -p 'require("./package.json").version')"
ARCH="$(dpkg --print-architecture)"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
DEB="$OUT/iotedge-ts_${VERSION}_${ARCH}.deb"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
ROOT="$WORK/root"
APP="$ROOT/usr/lib/iotedge-ts"
DOC="$ROOT/usr/share/doc/iotedge-ts"

if [ "$BUILD" = 1 ]; then npx tsc -p tsconfig.json; fi
if [ -z "$TGZ" ]; then
  npm pack --ignore-scripts --silent --pack-destination "$WORK" >/dev/null
  TGZ="$WORK/iotedge-ts-$VERSION.tgz"
fi

# The app: the npm package, its bundled production dependencies, and no build leftovers.
install -d -m 0755 "$APP"
tar -xzf "$TGZ" -C "$APP" --strip-components=1 --no-same-owner --no-same-permissions
MODULES="$APP/node_modules"
[ -f "$MODULES/better-sqlite3/build/Release/better_sqlite3.node" ] || {
  echo "build-deb.sh: $TGZ has no built better-sqlite3 (is bundleDependencies in package.json?)" >&2
  exit 1
}
# Native addons keep their built *.node files and lose the compiler's leftovers (objects, static
# libraries, makefiles) and better-sqlite3's SQLite sources and test extension.
find "$MODULES" -name binding.gyp -printf '%h\0' | while IFS= read -r -d '' addon; do
  [ -d "$addon/build/Release" ] || continue
  find "$addon/build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
  find "$addon/build/Release" -mindepth 1 -maxdepth 1 ! -name '*.node' -exec rm -rf {} +
done
rm -rf "$MODULES/better-sqlite3/deps" "$MODULES/better-sqlite3/src" \
  "$MODULES/better-sqlite3/build/Release/test_extension.node"
# Prebuilt binaries for other systems and architectures than this one go.
NODE_ARCH="$(node -p process.arch)"
find "$MODULES" -type d -name prebuilds -prune -print0 | while IFS= read -r -d '' prebuilds; do
  find "$prebuilds" -mindepth 1 -maxdepth 1 ! -name "linux-$NODE_ARCH" -exec rm -rf {} +
done
find "$MODULES" -type f \( -name '*.node' -o -name '*.bare' \) -exec strip --strip-unneeded {} + -exec chmod 0644 {} +
# Development files of the dependencies.
find "$MODULES" -type f \( -name .npmignore -o -name '.eslintrc*' -o -name .gitattributes \
  -o -name .travis.yml -o -name .editorconfig \) -delete
# An executable bit on a file that is neither a script nor a program is dropped.
find "$MODULES" -type f -perm /111 -print0 | while IFS= read -r -d '' file; do
  case "$(head -c 4 "$file" | od -An -c | tr -d ' ')" in
  '#!'* | '177ELF') ;;
  *) chmod 0644 "$file" ;;
  esac
done
mv "$APP/README.md" "$WORK/README.md"

# The two commands, as relative links (they work in any root).
install -d -m 0755 "$ROOT/usr/bin"
ln -s ../lib/iotedge-ts/bin/run.js "$ROOT/usr/bin/iotedge"
ln -s ../lib/iotedge-ts/bin/iotedged.js "$ROOT/usr/bin/iotedged"

# The service, the configuration (a conffile, readable by root alone: it holds the device's key).
install -D -m 0644 contrib/systemd/iotedged.service "$ROOT/usr/lib/systemd/system/iotedged.service"
install -D -m 0600 contrib/config/config.template.yaml "$ROOT/etc/iotedge/config.yaml"

# Man pages, from this build's command metadata.
node dist/src/packaging/write-man-pages.js "$WORK" >/dev/null
install -D -m 0644 "$WORK/iotedge.1" "$ROOT/usr/share/man/man1/iotedge.1"
install -D -m 0644 "$WORK/iotedged.8" "$ROOT/usr/share/man/man8/iotedged.8"
gzip -9n "$ROOT/usr/share/man/man1/iotedge.1" "$ROOT/usr/share/man/man8/iotedged.8"

# Documentation, copyright, changelog, lintian's notes.
install -D -m 0644 contrib/debian/copyright "$DOC/copyright"
install -m 0644 "$WORK/README.md" "$DOC/README.md"
gzip -9n "$DOC/README.md"
{
  echo "iotedge-ts ($VERSION) unstable; urgency=medium"
  echo
  echo "  * Built from the iotedge-ts repository$(git rev-parse --short HEAD 2>/dev/null | sed 's/^/ at commit /')."
  echo
  echo " -- iotedge-ts maintainers <iotedge-ts@localhost>  $(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} >"$DOC/changelog"
gzip -9n "$DOC/changelog"
install -D -m 0644 contrib/debian/lintian-overrides "$ROOT/usr/share/lintian/overrides/iotedge-ts"

# Control data.
install -d -m 0755 "$ROOT/DEBIAN"
INSTALLED_SIZE="$(du -sk --apparent-size --exclude=DEBIAN "$ROOT" | cut -f1)"
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@INSTALLED_SIZE@/$INSTALLED_SIZE/" \
  contrib/debian/control.in >"$ROOT/DEBIAN/control"
echo /etc/iotedge/config.yaml >"$ROOT/DEBIAN/conffiles"
install -m 0755 contrib/debian/postinst contrib/debian/prerm contrib/debian/postrm "$ROOT/DEBIAN/"
(cd "$ROOT" && find usr -type f -print0 | sort -z | xargs -0 md5sum) >"$ROOT/DEBIAN/md5sums"
chmod 0644 "$ROOT/DEBIAN/control" "$ROOT/DEBIAN/conffiles" "$ROOT/DEBIAN/md5sums"

# Directories 0755, files 0644 unless executable; then the archive, owned by root.
find "$ROOT" -type d -exec chmod 0755 {} +
find "$ROOT/usr" -type f -perm /111 -exec chmod 0755 {} +
find "$ROOT/usr" -type f ! -perm /111 -exec chmod 0644 {} +
dpkg-deb --root-owner-group "-Z$COMPRESS" --build "$ROOT" "$DEB" >/dev/null
echo "$DEB"
