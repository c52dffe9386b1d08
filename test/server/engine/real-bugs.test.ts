/**
 * Real bugs of Linux 6.12 that IOMMU Lens finds (docs/precision.md, "Real bugs it finds"): each
 * judged against the driver source, each must stay found. Runs on the corpus that
 * scripts/kernel-source.sh extracts (CI installs it: scripts/ci-deps.sh); skipped, and says so,
 * where it is absent. Nothing from the kernel is committed.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeText } from '../../../server/src/engine/index';
import { parseConfig } from '../../../server/src/config';

const CORPUS = process.env.IOMMU_LENS_CORPUS ?? '/var/tmp/iommu-lens-corpus';

/** [file under the corpus, line, rule], // function: why it is a bug. */
const BUGS: [string, number, string][] = [
  ['drivers/net/wireless/ath/ath12k/dp_tx.c', 468, 'double-release'], // ath12k_dp_tx: ti.paddr overwritten by the extension descriptor's mapping, unmapped twice
  ['drivers/net/ethernet/freescale/dpaa2/dpaa2-switch.c', 904, 'direction-mismatch'], // mapped FROM_DEVICE, unmapped TO_DEVICE
  ['drivers/net/ethernet/nvidia/forcedeth.c', 5243, 'direction-mismatch'], // nv_loopback_test's test buffer
  ['drivers/usb/dwc2/hcd_ddma.c', 82, 'direction-mismatch'], // dwc2_desc_list_alloc
  ['drivers/crypto/chelsio/chcr_algo.c', 2640, 'unmap-size-mismatch'], // mapped IV + b0_len, unmapped IV
  ['drivers/scsi/qla4xxx/ql4_nx.c', 2126, 'unmap-size-mismatch'], // freed with the last chunk's size
  ['drivers/net/ethernet/pasemi/pasemi_mac.c', 1447, 'leak'], // the head mapping not undone when a fragment fails
  ['drivers/net/ethernet/broadcom/b44.c', 1192, 'leak'], // b44_alloc_consistent
  ['drivers/net/ethernet/broadcom/b44.c', 1220, 'leak'], // b44_alloc_consistent
  ['drivers/misc/bcm-vk/bcm_vk_sg.c', 106, 'leak'], // bcm_vk_dma_alloc
  ['drivers/misc/bcm-vk/bcm_vk_sg.c', 120, 'leak'], // bcm_vk_dma_alloc
  ['drivers/crypto/intel/iaa/iaa_crypto_main.c', 1634, 'leak'], // the destination list stays mapped with more than one entry
  ['drivers/mtd/nand/raw/marvell_nand.c', 879, 'leak'], // a submit error returns before the dma_unmap_sg()
  ['drivers/net/wireless/intel/iwlegacy/3945-mac.c', 574, 'leak'], // the payload map failing skips the command's unmap
  ['drivers/mmc/host/sunxi-mmc.c', 404, 'leak'], // an unaligned entry returns -EINVAL with the list mapped
  ['drivers/net/ethernet/renesas/rtsn.c', 290, 'leak'], // rtsn_desc_alloc
  ['drivers/spi/spi-atmel.c', 1587, 'leak'], // atmel_spi_probe
  ['drivers/scsi/a2091.c', 93, 'leak'], // the bounce buffer's mapping not unmapped before kfree
  ['drivers/video/fbdev/grvga.c', 449, 'leak'], // a failed probe never unmaps the framebuffer
  ['drivers/net/ethernet/3com/3c59x.c', 1749, 'leak'], // vortex_open's failure frees rx skbs still mapped
  ['drivers/mtd/nand/raw/qcom_nandc.c', 1053, 'leak'], // prep_adm_dma_desc: kfree(desc) with the sgl mapped
  ['drivers/net/ethernet/hisilicon/hip04_eth.c', 742, 'leak'], // a failed open leaves rx_phys[0..i-1] mapped
  ['drivers/net/ethernet/mellanox/mlxsw/pci.c', 1678, 'leak'], // the unwind starts at i - 1
  ['drivers/net/ethernet/hisilicon/hix5hd2_gmac.c', 714, 'leak'], // hix5hd2_fill_sg_desc: a fragment failing to map leaves the head mapped; the xmit handler drops the skb
  ['drivers/net/ethernet/intel/ixgbe/ixgbe_main.c', 6653, 'leak'], // ixgbe_setup_rx_resources: xdp_rxq_info_reg() failing leaves rx_ring->desc allocated (the caller frees the rings before i)
  ['drivers/net/ethernet/intel/ixgbevf/ixgbevf_main.c', 3544, 'leak'], // ixgbevf_setup_rx_resources: the same
  ['drivers/net/ethernet/apm/xgene/xgene_enet_main.c', 438, 'leak'], // a fragment failing to map leaves the head mapped; the xmit handler drops the skb
  ['drivers/net/ethernet/realtek/8139cp.c', 812, 'leak'], // unwind_tx_frag_mapping() misses the head
  ['drivers/net/fddi/defza.c', 1163, 'leak'], // fza_open returns -EIO with rx buffers mapped
  ['drivers/net/ethernet/renesas/ravb_main.c', 3042, 'leak'], // ravb_probe
  ['drivers/scsi/pm8001/pm8001_init.c', 1272, 'leak'], // pm8001_init_ccb_tag
  ['drivers/net/ethernet/qlogic/qed/qed_vf.c', 493, 'leak'], // qed_vf_hw_prepare
  ['drivers/crypto/stm32/stm32-cryp.c', 1020, 'leak'], // stm32_cryp_dma_start
  ['drivers/net/ethernet/arc/emac_main.c', 451, 'leak'], // a failed open leaves the rx buffers mapped
  ['drivers/scsi/qla2xxx/qla_sup.c', 2805, 'leak'], // qla28xx_write_flash_data never frees the SFUB buffer
  ['drivers/dma/imx-sdma.c', 2142, 'leak'], // sdma_init: channel_control never freed when sdma_request_channel0() fails
  ['drivers/scsi/elx/efct/efct_hw.c', 518, 'leak'], // efct_hw_setup_io returns -ENOSPC with xfer_rdy allocated
  ['drivers/usb/gadget/udc/fsl_udc_core.c', 2258, 'leak'], // struct_udc_setup kfree()s a coherent buffer
  ['drivers/net/wireless/intel/iwlwifi/pcie/tx-gen2.c', 446, 'leak'], // the 4 GiB workaround's failed remap returns with the first mapping
];

const present = fs.existsSync(path.join(CORPUS, 'drivers'));
// Budgets are partly wall time (issue 8): a generous one, so a loaded machine finds the same.
const { config } = parseConfig({ budget: { timeMsPerFunction: 10000 } });

test(`real bugs of Linux 6.12 stay found (${BUGS.length}, corpus ${CORPUS})`, { skip: present ? false : `no corpus at ${CORPUS}: run scripts/kernel-source.sh` }, () => {
  const byFile = new Map<string, [number, string][]>();
  for (const [f, line, rule] of BUGS) byFile.set(f, [...(byFile.get(f) ?? []), [line, rule]]);
  const lost: string[] = [];
  for (const [f, want] of byFile) {
    const file = path.join(CORPUS, f);
    const text = fs.readFileSync(file, 'utf8');
    const r = analyzeText(text, 'file://' + file, { config });
    const got = new Set(r.functions.flatMap((fn) => fn.findings.map((x) => `${x.range.start.line + 1}:${x.rule}`)));
    for (const [line, rule] of want) if (!got.has(`${line}:${rule}`)) lost.push(`${f}:${line} ${rule}`);
  }
  assert.deepEqual(lost, [], 'real bugs no longer found');
});
