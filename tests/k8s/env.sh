# Sourced by the tests/k8s scripts: where the cluster's binaries, Go caches and
# run state live. Everything is outside the checkout (CI clones elsewhere on the
# same machine) and keyed by the pinned versions, so a second run never rebuilds.
K8S_VERSION=v1.35.4          # k8s.io/kubernetes; staging modules at v0.35.4 (go.mod)
ETCD_VERSION=v3.6.5          # go.etcd.io/etcd/server/v3 (what kubernetes v1.35.4 pins)
HELM_VERSION=v3.19.5         # helm.sh/helm/v3, go install
K8S_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
K8S_CACHE="${MILLRACE_CACHE:-$HOME/.cache/millrace}/k8s"
K8S_BIN="$K8S_CACHE/bin/k8s-$K8S_VERSION-etcd-$ETCD_VERSION"
HELM_BIN="$K8S_CACHE/bin/helm-$HELM_VERSION"
K8S_RUN="${MILLRACE_K8S_RUN:-$K8S_CACHE/run}"
export GOPATH="$K8S_CACHE/go" GOMODCACHE="$K8S_CACHE/go/mod" GOCACHE="$K8S_CACHE/go/cache"
export GOFLAGS=-modcacherw GOTOOLCHAIN=local CGO_ENABLED=0
