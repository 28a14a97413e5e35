/** Plain ether transfers: 21,000 gas each, to addresses without code. */
import { GWEI, mockAddresses } from "../accounts.ts";
import { GENEROUS_FUNDING, toMockBlock, TxList, type Scenario } from "../block.ts";
import { SeededRandom } from "../random.ts";
import type { MockBlock } from "../types.ts";
import { MockWorld } from "../world.ts";

export const TRANSFER_GAS = 21_000n;

export interface RawTransferOptions {
  /** How many distinct senders; fewer than `count` makes senders send several transactions. */
  senders?: number;
  /** How many distinct recipients; fewer than `count` makes recipients hot. */
  recipients?: number;
  /** Keeps accounts apart when several scenarios share a block. */
  namespace?: string;
}

export function rawTransferScenario(count: number, options: RawTransferOptions = {}): Scenario {
  const namespace = options.namespace ?? "raw";
  const senders = mockAddresses(`${namespace}/sender`, Math.min(options.senders ?? count, count));
  const recipients = mockAddresses(`${namespace}/recipient`, Math.min(options.recipients ?? count, count));
  const independent = senders.length === count && recipients.length === count;
  const random = new SeededRandom(count);
  const world = new MockWorld();
  for (const sender of senders) world.fund(sender, GENEROUS_FUNDING);
  const txs = new TxList(world);
  for (let index = 0; index < count; index++) {
    // Independent transfers pair sender i with recipient i; otherwise draw at random.
    const from = independent ? senders[index] : senders[random.below(senders.length)];
    const to = independent ? recipients[index] : recipients[random.below(recipients.length)];
    txs.add({ from, to, gas: TRANSFER_GAS, value: BigInt(index + 1) * GWEI });
  }
  return { world, txs: txs.txs };
}

/** `count` independent transfers: distinct senders and distinct fresh recipients. */
export function rawTransfers(count: number): MockBlock {
  return toMockBlock(`raw-transfers-${count}`, rawTransferScenario(count));
}

/** Transfers among a small set of hot senders (several nonces each) and hot recipients. */
export function rawTransfersHot(count: number, options: { senders?: number; recipients?: number } = {}): MockBlock {
  const senders = options.senders ?? Math.max(1, Math.ceil(count / 8));
  const recipients = options.recipients ?? 3;
  return toMockBlock(`raw-transfers-hot-${count}`, rawTransferScenario(count, { senders, recipients }));
}
