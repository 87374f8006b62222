# Sourced by scripts/image/* and the image tests: where the image tooling keeps its
# state, and the settings that make buildah and podman work on a machine with no
# Docker engine (and, on the dev machine, no overlayfs below the container store,
# no CAP_SYS_RESOURCE and a hybrid cgroup v1 layout). Everything lives outside the
# checkout, under ~/.cache/millrace/image, so CI clones share it.
#
#   source scripts/image/env.sh; podman images     # the store make image fills
#
# Settings, each written once into $IMAGE_CACHE/containers/:
#   storage.conf     the vfs driver (overlay cannot stack on this machine's root
#                    filesystem), its own graph root, so the machine's store is untouched
#   containers.conf  runc (Debian bookworm's crun refuses the hybrid cgroup layout),
#                    the cgroupfs manager (no systemd), file events, and default
#                    rlimits low enough to set without CAP_SYS_RESOURCE
# BUILDAH_ISOLATION=chroot: buildah's RUN steps in a chroot, no nested runtime needed.
IMAGE_CACHE="${MILLRACE_CACHE:-$HOME/.cache/millrace}/image"
DEBIAN_RELEASE="${DEBIAN_RELEASE:-bookworm}"
# The Debian mirror the base image is bootstrapped from and its apt sources name:
# the machine's own (deb.debian.org unless MILLRACE_APT_MIRROR says otherwise).
APT_MIRROR="${MILLRACE_APT_MIRROR:-http://deb.debian.org/debian}"
APT_SECURITY_MIRROR="${MILLRACE_APT_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
# Where the image goes by default: the name the chart's values and the k8s harness use.
IMAGE_REPO="${MILLRACE_IMAGE_REPO:-ghcr.io/millrace/millrace}"

# Run state (locks, mounts) per store, under /run so that a reboot clears it.
IMAGE_RUN="/run/millrace-image/$(printf %s "$IMAGE_CACHE" | sha256sum | cut -c1-12)"
mkdir -p "$IMAGE_CACHE/containers"
_millrace_conf() { # file content: (re)written only when it differs
  [[ -f $1 && $(cat "$1") == "$2" ]] || printf '%s\n' "$2" > "$1"
}
_millrace_conf "$IMAGE_CACHE/containers/storage.conf" "[storage]
driver = \"vfs\"
graphroot = \"$IMAGE_CACHE/storage\"
runroot = \"$IMAGE_RUN/storage\""
_millrace_conf "$IMAGE_CACHE/containers/containers.conf" "[containers]
default_ulimits = [\"nofile=16384:16384\", \"nproc=32768:32768\"]
[engine]
runtime = \"runc\"
cgroup_manager = \"cgroupfs\"
events_logger = \"file\"
tmp_dir = \"$IMAGE_RUN/libpod\""
unset -f _millrace_conf
export CONTAINERS_STORAGE_CONF="$IMAGE_CACHE/containers/storage.conf"
export CONTAINERS_CONF="$IMAGE_CACHE/containers/containers.conf"
export BUILDAH_ISOLATION=chroot
export BUILDAH_FORMAT=docker
