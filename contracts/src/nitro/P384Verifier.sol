// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IP384Verifier} from "./IP384Verifier.sol";
import {P384} from "./P384.sol";

/// @title P384Verifier
/// @notice The `P384` library behind an external function. Stateless and ownerless: it holds no
/// storage, and its verdict depends only on its input. Compiled with `via_ir` (see foundry.toml's
/// `compilation_restrictions`); nothing that imports this file may be compiled otherwise, so deploy it
/// from its artifact and call it through `IP384Verifier`.
contract P384Verifier is IP384Verifier {
    /// @inheritdoc IP384Verifier
    function check(uint256[16] calldata v) external view returns (uint256 outcome) {
        return P384.check(v);
    }
}
