/**
 * IOMMU Lens embedded SMMUv3 emulator: public entry point.
 * `createSystem()` builds a system; everything else is exported for tools and
 * tests that want a lower layer (IovaDomain, ArmLpaeTable, SmmuV3, Iotlb).
 */
export { createSystem, ConfigError, resolveConfig } from './system';
export type { System, SystemConfig, DeviceAccess } from './system';
export { DMA_MAPPING_ERROR } from './dma';
export {
  DMA_BIDIRECTIONAL,
  DMA_TO_DEVICE,
  DMA_FROM_DEVICE,
  DMA_NONE,
  IOMMU_READ,
  IOMMU_WRITE,
  IOMMU_CACHE,
  IOMMU_NOEXEC,
  IOMMU_MMIO,
  IOMMU_PRIV,
  EPERM,
  ENOENT,
  EIO,
  ENOMEM,
  EFAULT,
  EBUSY,
  EEXIST,
  ENODEV,
  EINVAL,
  ENOSPC,
  ERANGE,
} from './events';
export type { EmuEvent } from './events';
export { IovaDomain, IOVA_RANGE_CACHE_MAX_SIZE, IOVA_MAG_SIZE } from './iova';
export type { IovaRange } from './iova';
export { ArmLpaeTable, newGather } from './io-pgtable-arm';
export type { IoPgtableCfg, IoPgtableEnv, PteView } from './io-pgtable-arm';
export { SmmuV3, EVT, CMDQ_OP, STRTAB_SPLIT, GERROR, GERROR_ERR_MASK, CERROR, PRI_RESP, Q_OVERFLOW_FLAG } from './smmu-v3';
export type { PriRecord, GerrorRecord, EventRecord } from './smmu-v3';
export { Vfio, DMA_ENTRY_LIMIT } from './vfio';
export type { VfioContainer, VfioDma } from './vfio';
export { Iotlb } from './iotlb';
export { PhysMemory, PageAllocator } from './memory';
export { Ctx, PMap, newToken } from './pmap';
export { MSI_IOVA_BASE, MSI_IOVA_LENGTH, Machine, SMMU_MODES, IOMMU_NO_PASID } from './iommu';
export type { SmmuMode } from './iommu';
