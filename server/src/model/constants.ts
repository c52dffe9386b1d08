/**
 * Kernel constants the analysis knows without headers (include/linux/*, uapi errno.h,
 * dma-direction.h, iommu.h, sizes.h). A file's own #defines are read on top of these.
 */
const sizes: Record<string, number> = {};
for (const [name, v] of [['1', 1], ['2', 2], ['4', 4], ['8', 8], ['16', 16], ['32', 32], ['64', 64], ['128', 128], ['256', 256], ['512', 512]] as const) sizes['SZ_' + name] = v;
for (const k of [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]) sizes[`SZ_${k}K`] = k * 1024;
for (const k of [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]) sizes[`SZ_${k}M`] = k * 1024 * 1024;
for (const k of [1, 2, 4, 8, 16]) sizes[`SZ_${k}G`] = k * 1024 * 1024 * 1024;

export const BUILTIN_CONSTANTS: Record<string, number> = {
  ...sizes,
  NULL: 0, true: 1, false: 0,
  PAGE_SIZE: 4096, PAGE_SHIFT: 12, PAGE_MASK: -4096,
  DMA_BIDIRECTIONAL: 0, DMA_TO_DEVICE: 1, DMA_FROM_DEVICE: 2, DMA_NONE: 3,
  PCI_DMA_BIDIRECTIONAL: 0, PCI_DMA_TODEVICE: 1, PCI_DMA_FROMDEVICE: 2,
  IOMMU_READ: 1, IOMMU_WRITE: 2, IOMMU_CACHE: 4, IOMMU_NOEXEC: 8, IOMMU_MMIO: 16, IOMMU_PRIV: 32,
  EPERM: 1, ENOENT: 2, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7, EAGAIN: 11, ENOMEM: 12, EFAULT: 14, EBUSY: 16,
  EEXIST: 17, ENODEV: 19, EINVAL: 22, ENOSPC: 28, ERANGE: 34, ENOSYS: 38, EOPNOTSUPP: 95, ENOTSUPP: 524,
  ETIMEDOUT: 110, EINPROGRESS: 115, EIOCBQUEUED: 529, EPROBE_DEFER: 517, ENOBUFS: 105, ENODATA: 61, EOVERFLOW: 75, EACCES: 13,
  IOVA_RANGE_CACHE_MAX_SIZE: 6,
};
