import { Address, hexToBytes } from "@ethereumjs/util";
import { SYSTEM_ADDRESS, SYSTEM_CALL_GAS } from "../chain/rules.ts";
import type { AddressHex } from "../chain/types.ts";
import { EMPTY_CODE_HASH } from "../state/types.ts";
import type { BlockState } from "./block-state.ts";
import type { ForkVm } from "./evm.ts";
import type { BlockEnv } from "./transaction.ts";

/**
 * Prague's system calls (EIP-4788 beacon roots, EIP-2935 block hashes, EIP-7002 and EIP-7251
 * request queues): a call from SYSTEM_ADDRESS with 30M gas that nobody pays for, applied to the
 * block state outside any transaction. Cancun's EIP-4788 keeps its direct storage writes
 * (vm/block.ts) so the older path stays as fast as it was.
 */

export type SystemCallResult = { ran: false } | { ran: true; success: boolean; output: Uint8Array };

const systemCaller = new Address(hexToBytes(SYSTEM_ADDRESS));

export async function systemCall(vm: ForkVm, env: BlockEnv, state: BlockState, contract: AddressHex, data: Uint8Array): Promise<SystemCallResult> {
  const tx = vm.state;
  tx.begin(state);
  // A contract that is not there (not deployed yet, or absent from a partial pre-state) is
  // an empty account: calling it does nothing.
  if (tx.load(contract).codeHash === EMPTY_CODE_HASH) return { ran: false };
  const systemExisted = tx.load(SYSTEM_ADDRESS).exists;
  const { evm } = vm;
  const journal = evm.journal as unknown as {
    cleanJournal(): void;
    checkpoint(): Promise<void>;
    commit(): Promise<void>;
    touched: Set<string>;
  };
  journal.cleanJournal();
  vm.blockHashes.lookup = (n) => state.blockHash(n);
  await journal.checkpoint();
  const result = await evm.runCall({
    block: env.evmBlock as never,
    gasPrice: 0n,
    origin: systemCaller,
    caller: systemCaller,
    gasLimit: SYSTEM_CALL_GAS,
    to: new Address(hexToBytes(contract)),
    value: 0n,
    data,
    skipNonceIncrement: true,
  });
  await journal.commit();
  // A read the EVM swallowed means this result is not the call's.
  tx.throwIfReadFailed();
  const writes = tx.writes(0n, false);
  // The EVM writes its caller back even for a zero value; the system address is not an
  // account the call creates.
  if (!systemExisted) writes.accounts.delete(SYSTEM_ADDRESS);
  state.apply(writes);
  const success = result.execResult.exceptionError === undefined;
  return { ran: true, success, output: result.execResult.returnValue };
}
