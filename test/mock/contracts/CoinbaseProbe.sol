// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// Reads the block beneficiary's balance mid-block, which depends on every earlier fee payment.
contract CoinbaseProbe {
    mapping(address => uint256) public seenBalance;

    function record() external {
        seenBalance[msg.sender] = block.coinbase.balance;
    }
}
