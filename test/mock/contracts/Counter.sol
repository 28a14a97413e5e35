// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// Every call reads and writes the same slot: a read-after-write chain across a block.
contract Counter {
    uint256 public count;

    function increment() external {
        count += 1;
    }
}
