/**
 * missing-error-path: a fallible call whose failure no path handles: a DMA mapping used
 * without dma_mapping_error() (DMA-API debug: "device driver failed to check map error"),
 * an alloc_iova()/reserve_iova()/allocation result used without a NULL check, iommu_map()'s
 * return ignored, an IS_ERR() result used unchecked. Reported at the fallible call.
 * A test of the result (or of a value computed from it), or returning it to the caller,
 * counts as handling it.
 */
import { API } from '../model/api';
import type { Finding } from '../engine/types';
import { CheckContext, finding, siteRange } from './common';

export function checkMissingErrorPath(ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const { site, checked } of ctx.exploration.fallibleSites.values()) {
    if (checked) continue;
    // The call oopses on the paths that reach it (no-dma-cookie): nothing after it could test it.
    if (ctx.exploration.paths.some((p) => p.state.oops?.site.at === site.at)) continue;
    const spec = API.get(site.api) ?? [...API.values()].find((s) => s.name === site.api);
    const how = ctx.config.wrappers[site.api];
    const f = spec?.failure ?? (how ? API.get(typeof how === 'string' ? how : how.api)?.failure : undefined);
    const msg = f === 'dma-mapping-error'
      ? `the DMA address from ${site.api}() is never tested with dma_mapping_error(); a failed mapping would be used as a bus address`
      : f === 'neg-errno'
        ? `the return value of ${site.api}() is not checked; it fails with a negative errno (-EINVAL, -EEXIST, -ENOMEM)`
        : f === 'err-ptr'
          ? `${site.api}() returns ERR_PTR() on failure, and no path tests its result with IS_ERR()`
          : `${site.api}() returns ${f === 'zero' ? '0' : 'NULL'} on failure, and no path tests its result`;
    out.push(finding('missing-error-path', 'warning', ctx, siteRange(site), msg, []));
  }
  return out;
}
