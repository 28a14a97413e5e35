/**
 * A pre-state under construction: accounts with balances, nonces, code and storage.
 * Generators write into it directly (balances, mapping slots) or load it into the set-up
 * VM and read back what real transactions did; `toJson` gives the corpus format.
 */
import { EMPTY_CODE_HASH } from "../../src/state/types.ts";
import { hexToBytes, keccakHex, quantity } from "./hex.ts";
import type { Hex, PreStateJson } from "./types.ts";

export interface WorldAccount {
  balance: bigint;
  nonce: bigint;
  codeHash: Hex;
  storage: Map<bigint, bigint>;
}

export class MockWorld {
  readonly accounts = new Map<Hex, WorldAccount>();
  /** Code by keccak-256 hash. */
  readonly codes = new Map<Hex, Hex>();

  /** The account at `address`, created empty when absent. */
  account(address: Hex): WorldAccount {
    const key = address.toLowerCase() as Hex;
    let account = this.accounts.get(key);
    if (account === undefined) {
      account = { balance: 0n, nonce: 0n, codeHash: EMPTY_CODE_HASH, storage: new Map() };
      this.accounts.set(key, account);
    }
    return account;
  }

  fund(address: Hex, wei: bigint): void {
    this.account(address).balance += wei;
  }

  setCode(address: Hex, code: Hex): void {
    const codeHash = keccakHex(hexToBytes(code));
    this.codes.set(codeHash, code.toLowerCase() as Hex);
    this.account(address).codeHash = codeHash;
  }

  code(address: Hex): Hex | undefined {
    const account = this.accounts.get(address.toLowerCase() as Hex);
    return account === undefined ? undefined : this.codes.get(account.codeHash);
  }

  setStorage(address: Hex, slot: bigint, value: bigint): void {
    const storage = this.account(address).storage;
    if (value === 0n) storage.delete(slot);
    else storage.set(slot, value);
  }

  storage(address: Hex, slot: bigint): bigint {
    return this.accounts.get(address.toLowerCase() as Hex)?.storage.get(slot) ?? 0n;
  }

  /** Copies code and storage of `from` to `to` (balance and nonce too): cloning a deployed contract. */
  cloneAccount(from: Hex, to: Hex, code?: Hex): void {
    const source = this.account(from);
    const target = this.account(to);
    target.balance = source.balance;
    target.nonce = source.nonce;
    target.storage = new Map(source.storage);
    if (code !== undefined) this.setCode(to, code);
    else target.codeHash = source.codeHash;
  }

  /** Adds every account of `other`; an address present in both must hold the same thing. */
  merge(other: MockWorld): void {
    for (const [address, account] of other.accounts) {
      const mine = this.accounts.get(address);
      if (mine !== undefined && !sameAccount(mine, account)) {
        throw new Error(`merging mock pre-states: ${address} differs`);
      }
      this.accounts.set(address, { ...account, storage: new Map(account.storage) });
    }
    for (const [hash, code] of other.codes) this.codes.set(hash, code);
  }

  toJson(): { preState: PreStateJson; bytecodes: Record<Hex, Hex> } {
    const preState: PreStateJson = {};
    const bytecodes: Record<Hex, Hex> = {};
    for (const [address, account] of [...this.accounts].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const storage: Record<Hex, Hex> = {};
      for (const [slot, value] of account.storage) storage[quantity(slot)] = quantity(value);
      preState[address] = {
        balance: quantity(account.balance),
        nonce: Number(account.nonce),
        ...(account.codeHash === EMPTY_CODE_HASH ? {} : { code_hash: account.codeHash }),
        storage,
      };
      if (account.codeHash !== EMPTY_CODE_HASH) {
        const code = this.codes.get(account.codeHash);
        if (code === undefined) throw new Error(`mock pre-state: no code for ${address}`);
        bytecodes[account.codeHash] = code;
      }
    }
    return { preState, bytecodes };
  }
}

function sameAccount(a: WorldAccount, b: WorldAccount): boolean {
  if (a.balance !== b.balance || a.nonce !== b.nonce || a.codeHash !== b.codeHash) return false;
  if (a.storage.size !== b.storage.size) return false;
  for (const [slot, value] of a.storage) if (b.storage.get(slot) !== value) return false;
  return true;
}

/** Reads a pre-state in corpus format back into a world (for executing a mock elsewhere). */
export function worldFromJson(preState: PreStateJson, bytecodes: Record<Hex, Hex>): MockWorld {
  const world = new MockWorld();
  for (const [address, json] of Object.entries(preState) as [Hex, PreStateJson[Hex]][]) {
    const account = world.account(address);
    account.balance = BigInt(json.balance);
    account.nonce = BigInt(json.nonce);
    if (json.code_hash !== undefined && json.code_hash !== EMPTY_CODE_HASH) {
      const code = bytecodes[json.code_hash];
      if (code === undefined) throw new Error(`mock pre-state: no code for ${address}`);
      world.setCode(address, code);
    }
    for (const [slot, value] of Object.entries(json.storage)) account.storage.set(BigInt(slot), BigInt(value));
  }
  return world;
}
