/**
 * THE table of kernel API semantics (shared/DESIGN.md §4, Linux 6.12). The executor, the
 * checkers, hover text and docs/rules.md read it; nothing else states what a kernel call does.
 *
 * Argument positions are 0-based. `handle` says where the resource's identity comes from:
 * the return value, or an out-parameter (`dma_alloc_coherent`'s `&handle`).
 */

export type ResourceKind =
  | 'iova'          // struct iova * from alloc_iova / reserve_iova
  | 'iova-fast'     // pfn from alloc_iova_fast
  | 'dma-iova'      // dma_addr_t from iommu_dma_alloc_iova
  | 'dma-mapping'   // dma_map_single / page / resource
  | 'dma-sg'        // dma_map_sg
  | 'dma-sgtable'   // dma_map_sgtable
  | 'coherent'      // dma_alloc_coherent / attrs / noncoherent
  | 'pool-block'    // dma_pool_alloc
  | 'pages'         // __get_free_pages / alloc_pages
  | 'domain'        // iommu_domain_alloc
  | 'attachment'    // iommu_attach_device
  | 'iommu-mapping' // iommu_map
  | 'pinned-pages'; // vfio_pin_pages / vfio_pin_pages_remote (user pages pinned for DMA)

/** How a call signals failure. */
export type Failure =
  | 'null'               // returns NULL
  | 'zero'               // returns 0 (a pfn, an address, an sg count)
  | 'neg-errno'          // returns a negative errno, 0 on success
  | 'err-ptr'            // returns ERR_PTR(-errno)
  | 'dma-mapping-error'; // returns DMA_MAPPING_ERROR, tested with dma_mapping_error()

export interface Acquire {
  kind: ResourceKind;
  /** Where the handle that releases it comes from. */
  handle: 'ret' | { outArg: number };
  /** A second value that also identifies it (the coherent buffer's dma handle out-param). */
  alsoOut?: number;
  /** The out-parameter handle is written by the call (`vfio_pin_pages_remote(..., &pfn, ...)`: `*pfn_base`). */
  writesOut?: boolean;
  size?: number;
  dir?: number;
  dev?: number;
  /** Size given as a page order (`__get_free_pages(gfp, order)`). */
  sizeIsOrder?: boolean;
  /** Fixed size in pages/bytes when the call has no size argument (`alloc_page`). */
  fixedOrder?: number;
  /** The resource belongs to a longer-lived owner at once (a reservation in the iovad). */
  ownedByContainer?: boolean;
  /** An IOMMU mapping lives in its domain: it leaks only on a failing exit. */
  leaksOnlyOnFailure?: boolean;
  iova?: number; // iommu_map: iova argument
  paddr?: number;
  domain?: number;
  iovad?: number;
  /** alloc_iova: the size_aligned flag's argument. */
  aligned?: number;
  limit?: number;
}

export interface Release {
  kinds: ResourceKind[];
  /** Argument that carries the handle. */
  handle: number;
  size?: number;
  dir?: number;
  sizeIsOrder?: boolean;
  fixedOrder?: number;
  /** For coherent memory: the dma handle argument, which must match too. */
  alsoHandle?: number;
  /** iommu_unmap: releases every mapping inside [handle, handle + size). */
  range?: boolean;
  domain?: number;
}

/**
 * dma_sync_*: moves ownership of a live streaming mapping between CPU and device; acquires and
 * releases nothing. The mapping is found by its handle as releases find theirs
 * (kernel/dma/debug.c check_sync()).
 */
export interface Sync {
  kinds: ResourceKind[];
  /** Argument that carries the handle (the dma_addr_t, the scatterlist, the sg_table). */
  handle: number;
  /** dma_sync_single_range_*: the offset into the mapping. */
  offset?: number;
  /** Bytes synced; for dma_sync_sg_* the entry count (compared with the nents given to dma_map_sg()). */
  size?: number;
  dir: number;
  /** _for_cpu (true) or _for_device. */
  forCpu: boolean;
}

export interface ApiSpec {
  name: string;
  acquires?: Acquire;
  releases?: Release;
  sync?: Sync;
  failure?: Failure;
  /** The result must be checked (missing-error-path). */
  mustCheck?: boolean;
  /** dma_mapping_error(dev, addr): the argument it checks. */
  checksArg?: number;
  /** Managed (devres): released by the driver core. */
  devres?: boolean;
  /** One line for hover and docs. */
  doc: string;
}

const table: ApiSpec[] = [
  // drivers/iommu/iova.c
  { name: 'alloc_iova', failure: 'null', mustCheck: true,
    acquires: { kind: 'iova', handle: 'ret', size: 1, iovad: 0, limit: 2, aligned: 3 },
    doc: 'Allocates `size` pfns top-down below `limit_pfn`; NULL on failure. Released by __free_iova() or free_iova().' },
  { name: 'reserve_iova', failure: 'null', mustCheck: true,
    acquires: { kind: 'iova', handle: 'ret', iovad: 0, ownedByContainer: true },
    doc: 'Reserves [pfn_lo, pfn_hi] in the IOVA domain; NULL on failure.' },
  { name: '__free_iova', releases: { kinds: ['iova'], handle: 1 }, doc: 'Frees the struct iova from alloc_iova().' },
  { name: 'free_iova', releases: { kinds: ['iova'], handle: 1 }, doc: 'Finds the IOVA range containing `pfn` and frees it.' },
  { name: 'alloc_iova_fast', failure: 'zero', mustCheck: true,
    acquires: { kind: 'iova-fast', handle: 'ret', size: 1, iovad: 0, limit: 2 },
    doc: 'Allocates `size` pfns through the per-size range caches; returns the pfn, 0 on failure. Released by free_iova_fast() with the same size.' },
  { name: 'free_iova_fast', releases: { kinds: ['iova-fast'], handle: 1, size: 2 }, doc: 'Frees a range from alloc_iova_fast(); the size must match.' },
  { name: 'iommu_dma_alloc_iova', failure: 'zero', mustCheck: true,
    acquires: { kind: 'dma-iova', handle: 'ret', size: 1 },
    doc: 'Allocates an IOVA range in the DMA domain\'s cookie; 0 on failure. Released by iommu_dma_free_iova().' },
  { name: 'iommu_dma_free_iova', releases: { kinds: ['dma-iova'], handle: 1, size: 2 }, doc: 'Frees an IOVA range from iommu_dma_alloc_iova().' },

  // include/linux/dma-mapping.h
  { name: 'dma_map_single', failure: 'dma-mapping-error', mustCheck: true,
    acquires: { kind: 'dma-mapping', handle: 'ret', dev: 0, size: 2, dir: 3 },
    doc: 'Maps a kernel buffer for DMA; test the result with dma_mapping_error(). Released by dma_unmap_single() with the same size and direction.' },
  { name: 'dma_map_single_attrs', failure: 'dma-mapping-error', mustCheck: true,
    acquires: { kind: 'dma-mapping', handle: 'ret', dev: 0, size: 2, dir: 3 },
    doc: 'dma_map_single() with attributes.' },
  { name: 'dma_map_page', failure: 'dma-mapping-error', mustCheck: true,
    acquires: { kind: 'dma-mapping', handle: 'ret', dev: 0, size: 3, dir: 4 },
    doc: 'Maps a page for DMA; test the result with dma_mapping_error(). Released by dma_unmap_page() with the same size and direction.' },
  { name: 'dma_map_page_attrs', failure: 'dma-mapping-error', mustCheck: true,
    acquires: { kind: 'dma-mapping', handle: 'ret', dev: 0, size: 3, dir: 4 },
    doc: 'dma_map_page() with attributes.' },
  { name: 'skb_frag_dma_map', failure: 'dma-mapping-error', mustCheck: true,
    acquires: { kind: 'dma-mapping', handle: 'ret', dev: 0, size: 3, dir: 4 },
    doc: 'Maps an skb fragment (dma_map_page underneath). Released by dma_unmap_page().' },
  { name: 'dma_map_resource', failure: 'dma-mapping-error', mustCheck: true,
    acquires: { kind: 'dma-mapping', handle: 'ret', dev: 0, size: 2, dir: 3 },
    doc: 'Maps an MMIO resource for DMA. Released by dma_unmap_resource().' },
  { name: 'dma_unmap_single', releases: { kinds: ['dma-mapping'], handle: 1, size: 2, dir: 3 }, doc: 'Unmaps a dma_map_single() mapping.' },
  { name: 'dma_unmap_single_attrs', releases: { kinds: ['dma-mapping'], handle: 1, size: 2, dir: 3 }, doc: 'dma_unmap_single() with attributes.' },
  { name: 'dma_unmap_page', releases: { kinds: ['dma-mapping'], handle: 1, size: 2, dir: 3 }, doc: 'Unmaps a dma_map_page() mapping.' },
  { name: 'dma_unmap_page_attrs', releases: { kinds: ['dma-mapping'], handle: 1, size: 2, dir: 3 }, doc: 'dma_unmap_page() with attributes.' },
  { name: 'dma_unmap_resource', releases: { kinds: ['dma-mapping'], handle: 1, size: 2, dir: 3 }, doc: 'Unmaps a dma_map_resource() mapping.' },
  { name: 'dma_mapping_error', checksArg: 1, doc: 'True when a dma_map_*() call failed.' },
  { name: 'dma_map_sg', failure: 'zero', mustCheck: true,
    acquires: { kind: 'dma-sg', handle: { outArg: 1 }, dev: 0, size: 2, dir: 3 },
    doc: 'Maps a scatterlist; returns the number of DMA segments, 0 on failure. Released by dma_unmap_sg() with the ORIGINAL nents.' },
  { name: 'dma_map_sg_attrs', failure: 'zero', mustCheck: true,
    acquires: { kind: 'dma-sg', handle: { outArg: 1 }, dev: 0, size: 2, dir: 3 },
    doc: 'dma_map_sg() with attributes.' },
  { name: 'dma_unmap_sg', releases: { kinds: ['dma-sg'], handle: 1, size: 2, dir: 3 }, doc: 'Unmaps a scatterlist; nents must be the value passed to dma_map_sg().' },
  { name: 'dma_unmap_sg_attrs', releases: { kinds: ['dma-sg'], handle: 1, size: 2, dir: 3 }, doc: 'dma_unmap_sg() with attributes.' },
  { name: 'scsi_dma_unmap', releases: { kinds: ['dma-sg'], handle: 0 }, doc: 'Unmaps a SCSI command\'s data scatterlist (dma_unmap_sg underneath).' },
  { name: 'dma_map_sgtable', failure: 'neg-errno', mustCheck: true,
    acquires: { kind: 'dma-sgtable', handle: { outArg: 1 }, dev: 0, dir: 2 },
    doc: 'Maps an sg_table; 0 or a negative errno. Released by dma_unmap_sgtable().' },
  { name: 'dma_unmap_sgtable', releases: { kinds: ['dma-sgtable'], handle: 1, dir: 2 }, doc: 'Unmaps an sg_table.' },
  // include/linux/dma-mapping.h: the syncs (the _range_ ones are the plain ones at addr + offset;
  // the sgtable ones pass sgt->orig_nents).
  { name: 'dma_sync_single_for_cpu', sync: { kinds: ['dma-mapping'], handle: 1, size: 2, dir: 3, forCpu: true },
    doc: 'Gives a streaming mapping back to the CPU (size bytes from the handle); the mapping stays.' },
  { name: 'dma_sync_single_for_device', sync: { kinds: ['dma-mapping'], handle: 1, size: 2, dir: 3, forCpu: false },
    doc: 'Gives a streaming mapping back to the device after CPU access.' },
  { name: 'dma_sync_single_range_for_cpu', sync: { kinds: ['dma-mapping'], handle: 1, offset: 2, size: 3, dir: 4, forCpu: true },
    doc: 'dma_sync_single_for_cpu() of size bytes at handle + offset.' },
  { name: 'dma_sync_single_range_for_device', sync: { kinds: ['dma-mapping'], handle: 1, offset: 2, size: 3, dir: 4, forCpu: false },
    doc: 'dma_sync_single_for_device() of size bytes at handle + offset.' },
  { name: 'dma_sync_sg_for_cpu', sync: { kinds: ['dma-sg'], handle: 1, size: 2, dir: 3, forCpu: true },
    doc: 'Gives a mapped scatterlist back to the CPU; nents must be the value passed to dma_map_sg().' },
  { name: 'dma_sync_sg_for_device', sync: { kinds: ['dma-sg'], handle: 1, size: 2, dir: 3, forCpu: false },
    doc: 'Gives a mapped scatterlist back to the device; nents must be the value passed to dma_map_sg().' },
  { name: 'dma_sync_sgtable_for_cpu', sync: { kinds: ['dma-sgtable'], handle: 1, dir: 2, forCpu: true },
    doc: 'dma_sync_sg_for_cpu() of an sg_table (its orig_nents).' },
  { name: 'dma_sync_sgtable_for_device', sync: { kinds: ['dma-sgtable'], handle: 1, dir: 2, forCpu: false },
    doc: 'dma_sync_sg_for_device() of an sg_table (its orig_nents).' },
  { name: 'dma_alloc_coherent', failure: 'null', mustCheck: true,
    acquires: { kind: 'coherent', handle: 'ret', alsoOut: 2, dev: 0, size: 1 },
    doc: 'Allocates coherent DMA memory; NULL on failure. Released by dma_free_coherent() with the same size, CPU address and handle.' },
  { name: 'dma_alloc_attrs', failure: 'null', mustCheck: true,
    acquires: { kind: 'coherent', handle: 'ret', alsoOut: 2, dev: 0, size: 1 },
    doc: 'dma_alloc_coherent() with attributes. Released by dma_free_attrs().' },
  { name: 'dma_alloc_noncoherent', failure: 'null', mustCheck: true,
    acquires: { kind: 'coherent', handle: 'ret', alsoOut: 2, dev: 0, size: 1 },
    doc: 'Allocates non-coherent DMA memory. Released by dma_free_noncoherent().' },
  { name: 'dma_zalloc_coherent', failure: 'null', mustCheck: true,
    acquires: { kind: 'coherent', handle: 'ret', alsoOut: 2, dev: 0, size: 1 },
    doc: 'Old name of dma_alloc_coherent().' },
  { name: 'dma_free_coherent', releases: { kinds: ['coherent'], handle: 2, size: 1, alsoHandle: 3 }, doc: 'Frees coherent memory.' },
  { name: 'dma_free_attrs', releases: { kinds: ['coherent'], handle: 2, size: 1, alsoHandle: 3 }, doc: 'Frees memory from dma_alloc_attrs().' },
  { name: 'dma_free_noncoherent', releases: { kinds: ['coherent'], handle: 2, size: 1, alsoHandle: 3 }, doc: 'Frees memory from dma_alloc_noncoherent().' },
  { name: 'dmam_alloc_coherent', failure: 'null', mustCheck: true, devres: true, doc: 'Managed dma_alloc_coherent(): freed on driver detach.' },
  { name: 'dmam_alloc_attrs', failure: 'null', mustCheck: true, devres: true, doc: 'Managed dma_alloc_attrs().' },
  { name: 'dma_pool_alloc', failure: 'null', mustCheck: true,
    acquires: { kind: 'pool-block', handle: 'ret', alsoOut: 2 },
    doc: 'Allocates a block from a DMA pool; NULL on failure. Released by dma_pool_free().' },
  { name: 'dma_pool_zalloc', failure: 'null', mustCheck: true,
    acquires: { kind: 'pool-block', handle: 'ret', alsoOut: 2 },
    doc: 'dma_pool_alloc() zeroed.' },
  { name: 'dma_pool_free', releases: { kinds: ['pool-block'], handle: 1, alsoHandle: 2 }, doc: 'Frees a pool block.' },

  // mm
  { name: '__get_free_pages', failure: 'zero', mustCheck: true,
    acquires: { kind: 'pages', handle: 'ret', size: 1, sizeIsOrder: true },
    doc: 'Allocates 2^order pages; 0 on failure. Released by free_pages() with the same order.' },
  { name: '__get_free_page', failure: 'zero', mustCheck: true,
    acquires: { kind: 'pages', handle: 'ret', fixedOrder: 0, sizeIsOrder: true }, doc: 'Allocates one page; 0 on failure.' },
  { name: 'get_zeroed_page', failure: 'zero', mustCheck: true,
    acquires: { kind: 'pages', handle: 'ret', fixedOrder: 0, sizeIsOrder: true }, doc: 'Allocates one zeroed page; 0 on failure.' },
  { name: 'free_pages', releases: { kinds: ['pages'], handle: 0, size: 1, sizeIsOrder: true }, doc: 'Frees 2^order pages.' },
  { name: 'free_page', releases: { kinds: ['pages'], handle: 0, fixedOrder: 0, sizeIsOrder: true }, doc: 'Frees one page.' },
  { name: 'alloc_pages', failure: 'null', mustCheck: true,
    acquires: { kind: 'pages', handle: 'ret', size: 1, sizeIsOrder: true },
    doc: 'Allocates 2^order pages; NULL on failure. Released by __free_pages() with the same order.' },
  { name: 'alloc_page', failure: 'null', mustCheck: true,
    acquires: { kind: 'pages', handle: 'ret', fixedOrder: 0, sizeIsOrder: true }, doc: 'Allocates one page; NULL on failure.' },
  { name: '__free_pages', releases: { kinds: ['pages'], handle: 0, size: 1, sizeIsOrder: true }, doc: 'Frees 2^order pages.' },
  { name: 'put_page', releases: { kinds: ['pages'], handle: 0 }, doc: 'Drops a page reference; frees a page from alloc_page() when it was the last.' },
  { name: '__free_page', releases: { kinds: ['pages'], handle: 0, fixedOrder: 0, sizeIsOrder: true }, doc: 'Frees one page.' },

  // drivers/iommu/iommu.c
  { name: 'iommu_domain_alloc', failure: 'null', mustCheck: true,
    acquires: { kind: 'domain', handle: 'ret' },
    doc: 'Allocates an unmanaged IOMMU domain; NULL on failure. Released by iommu_domain_free().' },
  { name: 'iommu_paging_domain_alloc', failure: 'err-ptr', mustCheck: true,
    acquires: { kind: 'domain', handle: 'ret', dev: 0 },
    doc: 'Allocates a paging domain for a device; ERR_PTR on failure. Released by iommu_domain_free().' },
  { name: 'iommu_domain_free', releases: { kinds: ['domain'], handle: 0 }, doc: 'Frees an IOMMU domain.' },
  { name: 'iommu_attach_device', failure: 'neg-errno', mustCheck: true,
    acquires: { kind: 'attachment', handle: { outArg: 0 }, domain: 0, dev: 1 },
    doc: 'Attaches a device to a domain; 0 or a negative errno. Undone by iommu_detach_device().' },
  { name: 'iommu_detach_device', releases: { kinds: ['attachment'], handle: 0 }, doc: 'Detaches a device from a domain.' },
  { name: 'iommu_map', failure: 'neg-errno', mustCheck: true,
    acquires: { kind: 'iommu-mapping', handle: { outArg: 1 }, domain: 0, iova: 1, paddr: 2, size: 3, leaksOnlyOnFailure: true },
    doc: 'Maps [iova, iova + size) to paddr in a domain; 0, or -EINVAL (unaligned), -EEXIST (already mapped), -ENOMEM. Undone by iommu_unmap().' },
  { name: 'iommu_unmap', releases: { kinds: ['iommu-mapping'], handle: 1, size: 2, range: true, domain: 0 },
    doc: 'Unmaps [iova, iova + size); returns the bytes unmapped, which can be fewer than asked.' },
  { name: 'iommu_unmap_nofail', releases: { kinds: ['iommu-mapping'], handle: 1, size: 2, range: true, domain: 0 },
    doc: 'iommufd: iommu_unmap() that WARNs unless the whole range was unmapped.' },
  { name: 'iommu_unmap_fast', releases: { kinds: ['iommu-mapping'], handle: 1, size: 2, range: true, domain: 0 },
    doc: 'iommu_unmap() with a deferred TLB flush.' },

  // drivers/vfio/vfio_main.c, vfio_iommu_type1.c. Both pins return the number of pages pinned
  // or a negative errno; the table has no such failure kind, so they are modelled as failing
  // with 0 (a count that is not positive), which keeps `npage <= 0` / `ret != npage` right.
  { name: 'vfio_pin_pages', failure: 'zero', mustCheck: true,
    acquires: { kind: 'pinned-pages', handle: { outArg: 1 }, dev: 0, size: 2 },
    doc: 'Pins `npage` pages of the user IOVA range at `iova` for an emulated (mdev) device; returns the number pinned or a negative errno. Released by vfio_unpin_pages() with the same iova and npage.' },
  // The unpins release a range of pins ([iova, iova + npage pages)): pages pinned one by one are
  // unpinned together, so their sizes are not compared.
  { name: 'vfio_unpin_pages', releases: { kinds: ['pinned-pages'], handle: 1 }, doc: 'Unpins pages pinned with vfio_pin_pages().' },
  { name: 'vfio_pin_pages_remote', failure: 'zero', mustCheck: true,
    acquires: { kind: 'pinned-pages', handle: { outArg: 3 }, writesOut: true, size: 2, leaksOnlyOnFailure: true },
    doc: 'type1: pins a physically contiguous chunk of the user range from `vaddr` (at most `npage` pages, RLIMIT_MEMLOCK) and returns its first pfn in `*pfn_base`; the number pinned or a negative errno. The pins belong to the vfio_dma; released by vfio_unpin_pages_remote() (and vfio_remove_dma()).' },
  { name: 'vfio_unpin_pages_remote', releases: { kinds: ['pinned-pages'], handle: 2 }, doc: 'type1: unpins `npage` pages from `pfn` (a chunk that failed to map).' },
  { name: 'vfio_remove_dma', releases: { kinds: ['pinned-pages', 'iommu-mapping'], handle: 1 },
    doc: 'type1: unmaps every chunk of the vfio_dma from every domain, unpins its pages and frees it (vfio_unmap_unpin()).' },
];

export const API: ReadonlyMap<string, ApiSpec> = new Map(table.map((s) => [s.name, s]));

/** Calls that query or convert and are modelled by the executor directly. */
export const HELPERS = new Set([
  'iommu_get_domain_for_dev', 'iommu_iotlb_sync', 'iommu_flush_iotlb_all', 'iova_dma_addr', 'iova_pfn', 'iova_size', 'iova_offset', 'iova_align', 'iova_shift',
  'iommu_iova_to_phys', 'PFN_PHYS', 'PHYS_PFN', 'PAGE_ALIGN', 'ALIGN', 'get_order', 'IS_ERR', 'IS_ERR_OR_NULL',
  'PTR_ERR', 'ERR_PTR', 'PTR_ERR_OR_ZERO', 'ERR_CAST', 'BIT', 'BIT_ULL', 'GENMASK', 'GENMASK_ULL', 'DMA_BIT_MASK',
  'virt_to_phys', 'page_to_phys', 'page_address', 'lower_32_bits', 'upper_32_bits', 'min', 'max', 'min_t', 'max_t',
  'round_up', 'round_down', 'DIV_ROUND_UP', 'PAGE_SHIFT', 'sizeof', 'likely', 'unlikely', 'WARN_ON', 'WARN_ON_ONCE',
  'cpu_to_le32', 'cpu_to_le64', 'le32_to_cpu', 'le64_to_cpu', 'sg_dma_address', 'sg_dma_len', '__ffs', 'fls', 'ilog2',
  'IS_ALIGNED', 'offset_in_page', 'cpu_to_le16', 'le16_to_cpu', 'cpu_to_be16', 'cpu_to_be32', 'cpu_to_be64',
  'be16_to_cpu', 'be32_to_cpu', 'be64_to_cpu',
]);

/** Human name of each resource kind, for messages. */
export const KIND_NAME: Record<ResourceKind, string> = {
  'iova': 'IOVA range',
  'iova-fast': 'IOVA range',
  'dma-iova': 'IOVA range',
  'dma-mapping': 'DMA mapping',
  'dma-sg': 'scatterlist mapping',
  'dma-sgtable': 'sg_table mapping',
  'coherent': 'coherent DMA buffer',
  'pool-block': 'DMA pool block',
  'pages': 'pages',
  'domain': 'IOMMU domain',
  'attachment': 'device attachment',
  'iommu-mapping': 'IOMMU mapping',
  'pinned-pages': 'pinned user pages',
};

/** The release functions of a kind, for messages and fixes. */
export function releasersOf(kind: ResourceKind): string[] {
  return table.filter((s) => s.releases?.kinds.includes(kind)).map((s) => s.name);
}

/** The releases the kernel pairs with an acquiring call first (dma_map_page, dma_unmap_page), then the kind's others. */
export function releasersFor(api: string, kind: ResourceKind): string[] {
  const all = releasersOf(kind);
  const pair = PAIRED[api] ?? api.replace(/(^|_)map(_|$)/, '$1unmap$2').replace(/(^|_)z?alloc(_|$)/, '$1free$2');
  return all.includes(pair) ? [pair, ...all.filter((n) => n !== pair)] : all;
}
const PAIRED: Record<string, string> = {
  skb_frag_dma_map: 'dma_unmap_page', dma_map_resource: 'dma_unmap_resource', alloc_iova: '__free_iova',
  dma_pool_zalloc: 'dma_pool_free', dma_zalloc_coherent: 'dma_free_coherent', dma_alloc_noncoherent: 'dma_free_noncoherent',
  vfio_pin_pages: 'vfio_unpin_pages', vfio_pin_pages_remote: 'vfio_unpin_pages_remote',
};

/** Look up a call by name, following configured driver wrappers. */
export function lookupApi(name: string, wrappers: Record<string, string | { api: string; args?: number[] }>):
  { spec: ApiSpec; argMap?: number[] } | undefined {
  const direct = API.get(name);
  if (direct) return { spec: direct };
  const w = wrappers[name];
  if (!w) return undefined;
  const api = typeof w === 'string' ? w : w.api;
  const spec = API.get(api);
  if (!spec) return undefined;
  return { spec, argMap: typeof w === 'string' ? undefined : w.args };
}
