#!/usr/bin/env bash
# Installs the local object-store servers the storage tests run against, once per machine:
#   - moto (S3) in server mode, from PyPI into a venv under the clone's .cache/ (git-ignored);
#   - fake-gcs-server (GCS), `go install`ed at a pinned version into ~/.cache/tributary/, outside
#     the clone, because it takes minutes to build and later clones (CI) on this machine reuse it;
#   - Azurite (Azure Blob) comes from node_modules (a devDependency): nothing to do here.
# Idempotent: a second run finds both and returns at once. Prints where they are.
set -euo pipefail
cd "$(dirname "$0")/../.."

MOTO_VERSION="${MOTO_VERSION:-5.2.5}"
FAKE_GCS_VERSION="${FAKE_GCS_VERSION:-v1.56.1}"
CACHE_HOME="${TRIBUTARY_CACHE:-$HOME/.cache/tributary}"

venv=".cache/object-stores/moto-$MOTO_VERSION"
if [[ ! -x "$venv/bin/moto_server" ]]; then
  echo "installing moto[server]==$MOTO_VERSION into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi

gcs_dir="$CACHE_HOME/fake-gcs-server-$FAKE_GCS_VERSION"
if [[ ! -x "$gcs_dir/bin/fake-gcs-server" ]]; then
  echo "building fake-gcs-server@$FAKE_GCS_VERSION into $gcs_dir (a few minutes the first time)" >&2
  mkdir -p "$gcs_dir"
  # The module and build caches live beside the binary, so a rebuild after a version bump is fast.
  GOBIN="$gcs_dir/bin" GOMODCACHE="$CACHE_HOME/go/mod" GOCACHE="$CACHE_HOME/go/build" GOFLAGS=-mod=mod \
    go install "github.com/fsouza/fake-gcs-server@$FAKE_GCS_VERSION"
fi

[[ -x node_modules/.bin/azurite-blob ]] || { echo "node_modules/.bin/azurite-blob is missing: run npm ci" >&2; exit 1; }

echo "MOTO_SERVER=$PWD/$venv/bin/moto_server"
echo "FAKE_GCS_SERVER=$gcs_dir/bin/fake-gcs-server"
echo "AZURITE_BLOB=$PWD/node_modules/.bin/azurite-blob"
