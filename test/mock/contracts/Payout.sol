// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// Pays out of its own balance; once drained, later payouts fail inside the call
/// (recorded, not reverted), so the transaction itself still succeeds.
contract Payout {
    uint256 public paidCount;
    uint256 public failedCount;

    receive() external payable {}

    function withdraw(uint256 amount) external {
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (ok) {
            paidCount += 1;
        } else {
            failedCount += 1;
        }
    }
}
