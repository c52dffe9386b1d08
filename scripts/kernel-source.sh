#!/usr/bin/env bash
# Extract the DMA/IOMMU-using driver sources of Linux 6.12 into the corpus directory.
#
# Idempotent: installs Debian's linux-source-6.12 only if its tarball is missing, and
# re-extracts only when the corpus is empty or --force is given. Never commit the output.
#
#   scripts/kernel-source.sh [--force]
#   IOMMU_LENS_CORPUS=/some/dir scripts/kernel-source.sh
set -euo pipefail

CORPUS="${IOMMU_LENS_CORPUS:-/var/tmp/iommu-lens-corpus}"
TARBALL="${KERNEL_TARBALL:-/usr/src/linux-source-6.12.tar.xz}"
# The DMA/IOMMU API names a file must mention to be kept (extended regex, on whole words).
PATTERN='\b(dma_map_[a-z_]+|dma_unmap_[a-z_]+|dma_alloc_[a-z_]+|dmam_alloc_[a-z_]+|dma_free_[a-z_]+|dma_pool_[a-z_]+|skb_frag_dma_map|iommu_map|iommu_unmap|iommu_domain_alloc|iommu_paging_domain_alloc|iommu_attach_device|iommu_detach_device|iommu_domain_free|alloc_iova|alloc_iova_fast|reserve_iova|__free_iova|free_iova|free_iova_fast|iommu_dma_alloc_iova|iommu_dma_free_iova)[[:space:]]*\('

force=0
[[ "${1:-}" == "--force" ]] && force=1

if [[ ! -f "$TARBALL" ]]; then
  echo "kernel-source: installing linux-source-6.12 (tarball $TARBALL missing)" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Another apt may hold the dpkg lock (a parallel install): wait for it rather than fail.
  apt_opts=(-y --no-install-recommends -o DPkg::Lock::Timeout=900)
  if ! apt-get install "${apt_opts[@]}" linux-source-6.12 >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=900 update >/dev/null
    apt-get install "${apt_opts[@]}" linux-source-6.12 >/dev/null
  fi
fi
[[ -f "$TARBALL" ]] || { echo "kernel-source: $TARBALL still missing" >&2; exit 2; }

mkdir -p "$CORPUS"
if [[ $force -eq 0 && -f "$CORPUS/.complete" ]]; then
  echo "$(find "$CORPUS" -name '*.c' | wc -l) files in $CORPUS (already extracted; --force to redo)"
  exit 0
fi

# One pass over the tarball: extract every drivers/**/*.c into a scratch dir, then keep the
# files that call the API. tar cannot grep while it streams, and a second decompression of a
# 140 MB .xz costs more than the scratch copy of drivers/*.c.
scratch="$(mktemp -d "${TMPDIR:-/var/tmp}/iommu-lens-ksrc.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
tar -xJf "$TARBALL" -C "$scratch" --wildcards '*/drivers/*.c'
root="$(find "$scratch" -mindepth 1 -maxdepth 1 -type d | head -n1)"

rm -rf "$CORPUS/drivers"
count=0
while IFS= read -r -d '' f; do
  rel="${f#"$root"/}"
  mkdir -p "$CORPUS/$(dirname "$rel")"
  cp "$f" "$CORPUS/$rel"
  count=$((count + 1))
done < <(cd "$root" && grep -rlZE --include='*.c' "$PATTERN" drivers | sed -z "s|^|$root/|")
lines=$(find "$CORPUS/drivers" -name '*.c' -print0 | xargs -0 cat | wc -l)
touch "$CORPUS/.complete"
echo "$count files, $lines lines in $CORPUS"
