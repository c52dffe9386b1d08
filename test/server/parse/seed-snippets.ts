/**
 * The seed driver functions (shared/seeds/000_1d863364e6e82d18.txt: ipu6-mmu.c, tegra drm.c and an
 * out-of-tree test module), read from the engine's seed fixtures so there is one copy of each.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const dir = path.resolve(__dirname, '../../../../test/server/fixtures/seeds');
const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');

export const allocateTrashBuffer = read('allocate_trash_buffer.c');
export const tegraDrmAlloc = read('tegra_drm_alloc.c');
export const pvaDmaAllocAndMapAt = read('pva_dma_alloc_and_map_at.c');
