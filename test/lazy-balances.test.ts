/**
 * A contract's balance is read only where something uses it (TxState's unread accounts, the
 * EVM overrides in src/vm/evm.ts), and a slot put back to its value is no write. Exactness is
 * the state tests' and mainnet tests' business; these tests check that the reads really are
 * gone on real mainnet transactions (WETH9, Uniswap's routers), since a regression here costs
 * only speed and no other test would notice it.
 */
import { describe, expect, test } from "bun:test";
import { Address, hexToBytes } from "@ethereumjs/util";
import { recordAccess } from "../bench/block-bound.ts";
import { blockDirOf } from "../bench/peer/corpus.ts";
import type { AddressHex, Hex } from "../src/chain/types.ts";
import { loadBlockDir } from "../src/index.ts";
import { EMPTY_CODE_HASH, type AccountInfo } from "../src/state/types.ts";
import type { StateSource } from "../src/vm/source.ts";
import { LazyAccount, TxState } from "../src/vm/tx-state.ts";

const WETH = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2";
const UNISWAP_V2_ROUTER = "0x7a250d5630b4cf539739df2c5dacb4c659f2488d";
const UNIVERSAL_ROUTER = "0x3fc91a3afd70395cd496c647d5a6cc9d4b2b7fad";
const DEPOSIT = "d0e30db0";
const WITHDRAW = "2e1a7d4d";
const SWAP_EXACT_ETH_FOR_TOKENS = "7ff36ab5";

/** Each transaction of a corpus block with what it read, wrote and credited (bench/block-bound.ts's keys). */
async function accessOf(number: number) {
  const { block, storage } = loadBlockDir(blockDirOf(number));
  const access = await recordAccess(block, storage);
  return block.transactions.map((tx, i) => ({
    to: tx.to,
    selector: Buffer.from(tx.data.slice(0, 4)).toString("hex"),
    value: tx.value,
    reads: new Set(access[i]!.reads),
    writes: new Set(access[i]!.writes),
    deltas: new Set(access[i]!.deltas),
  }));
}

describe("lazy contract balances on mainnet transactions", () => {
  test("a WETH deposit credits WETH without reading its balance; a withdrawal reads it", async () => {
    const txs = [...(await accessOf(14029313)), ...(await accessOf(19426586))];
    const deposits = txs.filter((t) => t.to === WETH && t.selector === DEPOSIT);
    const withdrawals = txs.filter((t) => t.to === WETH && t.selector === WITHDRAW);
    expect(deposits.length).toBe(3);
    expect(withdrawals.length).toBe(2);
    for (const t of deposits) {
      expect(t.reads.has(`a${WETH}`)).toBe(false);
      expect(t.writes.has(`a${WETH}`)).toBe(false);
      expect(t.deltas.has(`a${WETH}`)).toBe(true);
    }
    // Sending ether out needs the balance: enough to send is a question only it answers.
    for (const t of withdrawals) {
      expect(t.reads.has(`a${WETH}`)).toBe(true);
      expect(t.writes.has(`a${WETH}`)).toBe(true);
    }
  }, 60_000);

  test("Uniswap V2's router passes the ether on to WETH without its own balance read or written", async () => {
    const swaps = (await accessOf(12459406)).filter((t) => t.to === UNISWAP_V2_ROUTER && t.selector === SWAP_EXACT_ETH_FOR_TOKENS);
    expect(swaps.length).toBe(12);
    for (const t of swaps) {
      expect(t.reads.has(`a${UNISWAP_V2_ROUTER}`)).toBe(false);
      expect(t.writes.has(`a${UNISWAP_V2_ROUTER}`)).toBe(false);
      expect(t.deltas.has(`a${UNISWAP_V2_ROUTER}`)).toBe(false);
    }
    // The swaps that went through deposited into WETH: lazily, as above.
    const credited = swaps.filter((t) => t.deltas.has(`a${WETH}`));
    expect(credited.length).toBeGreaterThan(6);
    for (const t of credited) expect(t.reads.has(`a${WETH}`)).toBe(false);
  }, 60_000);

  test("the Universal Router's reentrancy lock is read, and put back, so it is no write", async () => {
    const calls = (await accessOf(19426586)).filter((t) => t.to === UNIVERSAL_ROUTER);
    expect(calls.length).toBe(20);
    for (const t of calls) {
      expect(t.reads.has(`s${UNIVERSAL_ROUTER}:1`)).toBe(true);
      expect(t.writes.has(`s${UNIVERSAL_ROUTER}:1`)).toBe(false);
    }
  }, 60_000);
});

describe("TxState's unread accounts", () => {
  const contract = "0x00000000000000000000000000000000000000cc" as AddressHex;
  const codeHash = `0x${"11".repeat(32)}` as Hex;

  /** One contract whose account read fails (as a parallel ReadBlocked or an async MissingState would). */
  function failingSource(failure: Error): StateSource {
    return {
      account: (): AccountInfo | undefined => {
        throw failure;
      },
      codeHash: (address) => (address === contract ? codeHash : EMPTY_CODE_HASH),
      storage: () => 0n,
      code: () => new Uint8Array([0x00]),
      blockHash: () => undefined,
    };
  }

  test("a failed balance read swallowed by the caller is still reported (TxState.throwIfReadFailed)", async () => {
    const state = new TxState();
    const failure = new Error("blocked");
    state.begin(failingSource(failure));
    const account = await state.getAccount(new Address(hexToBytes(contract)));
    expect(account).toBeInstanceOf(LazyAccount);
    expect(() => state.throwIfReadFailed()).not.toThrow();
    // The EVM's _executeCall catches whatever a value transfer throws, as here.
    try {
      account!.balance -= 1n;
    } catch {}
    expect(() => state.throwIfReadFailed()).toThrow(failure);
    state.begin(failingSource(failure));
    expect(() => state.throwIfReadFailed()).not.toThrow();
  });

  test("credits and covered debits leave the balance unread; a revert takes them back, also after a read", async () => {
    const reads: AddressHex[] = [];
    const source: StateSource = {
      account: (address) => {
        reads.push(address);
        return { balance: 100n, nonce: 1n, codeHash };
      },
      codeHash: (address) => (address === contract ? codeHash : EMPTY_CODE_HASH),
      storage: () => 0n,
      code: () => new Uint8Array([0x00]),
      blockHash: () => undefined,
    };
    const state = new TxState();
    state.begin(source);
    const acc = state.acquire(contract);
    state.creditUnread(acc, 7n);
    await state.checkpoint();
    state.creditUnread(acc, 5n);
    state.creditUnread(acc, -12n); // covered by the 12 paid in
    expect(reads).toEqual([]);
    expect(state.writes(0n, false).credits).toEqual([]); // +7 +5 -12: nothing to credit
    await state.revert(); // back to +7
    expect(state.writes(0n, false).credits).toEqual([{ address: contract, amount: 7n }]);
    await state.checkpoint();
    state.creditUnread(acc, 3n);
    expect(state.load(contract).balance).toBe(110n); // read: 100, and the 10 paid in on top
    expect(reads).toEqual([contract]);
    await state.revert();
    expect(acc.balance).toBe(107n);
    const write = state.writes(0n, false);
    expect(write.credits).toEqual([]); // read now: an ordinary write of the balance
    expect(write.accounts.get(contract)).toMatchObject({ infoChanged: true, balance: 107n, nonce: 1n });
  });
});
