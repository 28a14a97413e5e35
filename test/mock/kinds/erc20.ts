/** ERC-20 `transfer` calls on a real OpenZeppelin token. */
import { encodeCall } from "../abi.ts";
import { ETHER, mockAddresses } from "../accounts.ts";
import { GENEROUS_FUNDING, toMockBlock, TxList, type Scenario } from "../block.ts";
import { deployToken, HOLDER_TOKENS, setTokenBalance } from "../tokens.ts";
import type { Hex, MockBlock } from "../types.ts";

/** A transfer to a fresh holder costs about 51,000 gas; the limit leaves room. */
export const ERC20_TRANSFER_GAS = 80_000n;

export type Erc20Hotspot = "none" | "sender" | "recipient";

export interface Erc20Options {
  /** One holder sends every transfer, or one receives every transfer. */
  hot?: Erc20Hotspot;
  namespace?: string;
}

export async function erc20Scenario(count: number, options: Erc20Options = {}): Promise<Scenario & { token: Hex }> {
  const namespace = options.namespace ?? "erc20";
  const hot = options.hot ?? "none";
  const { world, token } = await deployToken(namespace, "TKN");
  const senders = mockAddresses(`${namespace}/sender`, hot === "sender" ? 1 : count);
  const recipients = mockAddresses(`${namespace}/recipient`, hot === "recipient" ? 1 : count);
  for (const sender of senders) {
    world.fund(sender, GENEROUS_FUNDING);
    setTokenBalance(world, token, sender, HOLDER_TOKENS * BigInt(hot === "sender" ? count : 1));
  }
  const txs = new TxList(world);
  for (let index = 0; index < count; index++) {
    const from = senders[index % senders.length];
    const to = recipients[index % recipients.length];
    txs.add({ from, to: token, gas: ERC20_TRANSFER_GAS, input: encodeCall("transfer(address,uint256)", [to, BigInt(index + 1) * ETHER]) });
  }
  return { world, txs: txs.txs, token };
}

export async function erc20Transfers(count: number, options: Erc20Options = {}): Promise<MockBlock> {
  const hot = options.hot ?? "none";
  const name = hot === "none" ? `erc20-transfers-${count}` : `erc20-transfers-hot-${hot}-${count}`;
  return toMockBlock(name, await erc20Scenario(count, options));
}
