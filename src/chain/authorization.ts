import { RLP } from "@ethereumjs/rlp";
import { bigIntToUnpaddedBytes, bytesToHex, ecrecover, hexToBytes, publicToAddress, setLengthLeft } from "@ethereumjs/util";
import { keccak_256 } from "@noble/hashes/sha3.js";
import type { AddressHex, Authorization } from "./types.ts";

/**
 * EIP-7702 authorizations: who signed one (the authority), and the delegation designator
 * `0xef0100 ‖ address` that becomes the authority's code.
 */

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
/** EIP-7702's magic prefix of the signed message. */
const MAGIC = 0x05;
export const DELEGATION_DESIGNATOR_LENGTH = 23;
const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

/** The delegate that `code` designates, or undefined when it is not a delegation designator. */
export function delegationTarget(code: Uint8Array): AddressHex | undefined {
  if (code.length !== DELEGATION_DESIGNATOR_LENGTH || code[0] !== 0xef || code[1] !== 0x01 || code[2] !== 0x00) return undefined;
  return bytesToHex(code.subarray(3)) as AddressHex;
}

/** The code an authorization gives its authority: the designator, or none for the zero address (a reset). */
export function delegationCode(address: AddressHex): Uint8Array {
  if (address === ZERO_ADDRESS) return new Uint8Array(0);
  const code = new Uint8Array(DELEGATION_DESIGNATOR_LENGTH);
  code.set([0xef, 0x01, 0x00]);
  code.set(hexToBytes(address), 3);
  return code;
}

/** Recovered once per authorization object (workers re-execute the same decoded transaction). */
const authorities = new WeakMap<Authorization, AddressHex | null>();

/**
 * The account that signed the authorization, or undefined when the signature is not a valid
 * one (EIP-7702: y_parity 0 or 1, s in the lower half of the curve order): such an
 * authorization is skipped, it does not make the transaction invalid.
 */
export function authorityOf(auth: Authorization): AddressHex | undefined {
  let authority = authorities.get(auth);
  if (authority === undefined) {
    authority = recoverAuthority(auth);
    authorities.set(auth, authority);
  }
  return authority ?? undefined;
}

function recoverAuthority(auth: Authorization): AddressHex | null {
  if (auth.yParity > 1n || auth.r === 0n || auth.r >= SECP256K1_N || auth.s === 0n || auth.s > SECP256K1_N / 2n) return null;
  const message = RLP.encode([bigIntToUnpaddedBytes(auth.chainId), hexToBytes(auth.address), bigIntToUnpaddedBytes(auth.nonce)]);
  const prefixed = new Uint8Array(message.length + 1);
  prefixed[0] = MAGIC;
  prefixed.set(message, 1);
  try {
    const publicKey = ecrecover(
      keccak_256(prefixed),
      auth.yParity,
      setLengthLeft(bigIntToUnpaddedBytes(auth.r), 32),
      setLengthLeft(bigIntToUnpaddedBytes(auth.s), 32),
    );
    return bytesToHex(publicToAddress(publicKey)) as AddressHex;
  } catch {
    return null; // no point on the curve has this signature
  }
}
