// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// A contract that can destroy itself, sending its balance to a beneficiary.
contract Ephemeral {
    uint256 public createdAt;

    constructor() payable {
        createdAt = block.number;
    }

    function destroy(address payable beneficiary) external {
        selfdestruct(beneficiary);
    }
}

/// Creates children; `spawnAndDestroy` creates and destroys one in the same transaction
/// (the account disappears under EIP-6780), `spawn` keeps it for a later `destroy`.
contract SelfDestructFactory {
    uint256 public spawned;
    mapping(uint256 => address) public children;

    function spawn() external payable returns (address child) {
        child = address(new Ephemeral{value: msg.value}());
        children[spawned] = child;
        spawned += 1;
    }

    function spawnAndDestroy() external payable {
        Ephemeral child = new Ephemeral{value: msg.value}();
        spawned += 1;
        child.destroy(payable(msg.sender));
    }
}
