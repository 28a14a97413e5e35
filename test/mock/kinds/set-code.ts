/**
 * EIP-7702 set-code transactions (Prague): authorities delegate to a shared Counter and back.
 * Per group of four transactions, with a sponsor S and an authority A (a key we hold):
 *   1. S sends a type-4 transaction to A with A's authorization to Counter (plus one that is
 *      skipped: a wrong nonce), calling increment(): Counter's code runs in A's storage.
 *   2. A itself sends a transaction (a delegated sender: EIP-3607 exempt) to the shared Counter,
 *      with the nonce its authorization bumped.
 *   3. S calls A again: delegated code read from what transaction 1 wrote.
 *   4. S sends a type-4 transaction to A that clears A's delegation (the zero address) and
 *      pays A 1,000 wei: a plain transfer to an account the same transaction wrote.
 * Every transaction reads what an earlier one wrote: nonces, code and storage.
 */
import { addr, authorization } from "micro-eth-signer";
import { encodeCall } from "../abi.ts";
import { GENEROUS_FUNDING, toMockBlock, type Scenario, type TxSpec } from "../block.ts";
import { deployContract } from "../deploy.ts";
import { bytesToHex, keccak, quantity } from "../hex.ts";
import type { Hex, MockBlock, RpcAuthorization, RpcTransaction } from "../types.ts";

/** A Prague mainnet time (after 1,746,612,311, before Osaka). */
export const SET_CODE_TIMESTAMP = 1_750_000_000n;
export const SET_CODE_GAS = 200_000n;
const CHAIN_ID = 1n;
const ZERO_ADDRESS: Hex = "0x0000000000000000000000000000000000000000";


function signAuthorization(privateKey: Uint8Array, delegate: Hex, nonce: bigint): RpcAuthorization {
  // Deterministic (RFC 6979, no extra entropy): the same block for the same count.
  const item = authorization.sign({ chainId: CHAIN_ID, address: delegate, nonce }, privateKey, false);
  return { chainId: quantity(item.chainId), address: delegate, nonce: quantity(item.nonce), yParity: quantity(item.yParity), r: quantity(item.r), s: quantity(item.s) };
}

export async function setCodeScenario(count: number, namespace = "set-code"): Promise<Scenario & { authorizations: Map<number, RpcAuthorization[]> }> {
  const { world, address: counter } = await deployContract(namespace, "Counter");
  const increment = encodeCall("increment()");
  const txs: TxSpec[] = [];
  const authorizations = new Map<number, RpcAuthorization[]>();
  for (let group = 0; txs.length < count; group++) {
    const key = keccak(`pevm-mock/${namespace}/authority/${group}`);
    const authority = addr.fromPrivateKey(key).toLowerCase() as Hex;
    const sponsor = bytesToHex(keccak(`pevm-mock/${namespace}/sponsor/${group}`).subarray(12));
    world.fund(authority, GENEROUS_FUNDING);
    world.fund(sponsor, GENEROUS_FUNDING);
    const spec = (from: Hex, nonce: bigint, input: Hex, value = 0n): TxSpec => ({ from, to: from === authority ? counter : authority, nonce, gas: SET_CODE_GAS, value, input });
    authorizations.set(txs.length, [signAuthorization(key, counter, 0n), signAuthorization(key, counter, 7n)]);
    txs.push(spec(sponsor, 0n, increment));
    txs.push(spec(authority, 1n, increment));
    txs.push(spec(sponsor, 1n, increment));
    authorizations.set(txs.length, [signAuthorization(key, ZERO_ADDRESS, 2n)]);
    txs.push(spec(sponsor, 2n, "0x", 1_000n));
  }
  txs.length = count;
  return { world, txs, authorizations };
}

export async function setCodeTransactions(count: number): Promise<MockBlock> {
  const { world, txs, authorizations } = await setCodeScenario(count);
  const mock = toMockBlock(`set-code-${count}`, { world, txs });
  mock.block.timestamp = quantity(SET_CODE_TIMESTAMP);
  mock.block.transactions = mock.block.transactions.map((tx, index): RpcTransaction => {
    const list = authorizations.get(index);
    return list === undefined ? tx : ({ ...tx, type: "0x4", authorizationList: list } as RpcTransaction);
  });
  return mock;
}
