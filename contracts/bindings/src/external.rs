//! Third-party contracts the project calls whose Solidity is not in this repository: OpenZeppelin
//! Contracts 5 and Symbiotic core 1.0.3 are npm packages that `ci/bootstrap` installs for forge
//! under `contracts/node_modules`, and the enclave image build has neither. Only the members the
//! project's callers use are declared, with the signatures of those package versions; the
//! contracts built on them (the registry's roles, the middleware's vault calls) are exercised
//! against the real packages by `ci/pcr-registry-test`, `ci/engine-e2e` and `ci/bridge-e2e`.
// The generated call builders take the contracts' own arguments.
#![allow(clippy::too_many_arguments)]

alloy::sol! {
    /// OpenZeppelin `IERC20` (the payment, stake and collateral tokens).
    #[sol(rpc, all_derives)]
    interface IERC20 {
        event Transfer(address indexed from, address indexed to, uint256 value);
        event Approval(address indexed owner, address indexed spender, uint256 value);

        function totalSupply() external view returns (uint256);
        function balanceOf(address account) external view returns (uint256);
        function transfer(address to, uint256 value) external returns (bool);
        function allowance(address owner, address spender) external view returns (uint256);
        function approve(address spender, uint256 value) external returns (bool);
        function transferFrom(address from, address to, uint256 value) external returns (bool);
    }

    /// OpenZeppelin `IAccessControl`, which `EnclaveRegistry` (through
    /// `AccessControlDefaultAdminRules`), `NetworkMiddleware` and `SymbioticStakingModule` inherit.
    #[sol(rpc, all_derives)]
    interface IAccessControl {
        error AccessControlUnauthorizedAccount(address account, bytes32 neededRole);
        error AccessControlBadConfirmation();

        event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender);
        event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender);

        function hasRole(bytes32 role, address account) external view returns (bool);
        function getRoleAdmin(bytes32 role) external view returns (bytes32);
        function grantRole(bytes32 role, address account) external;
        function revokeRole(bytes32 role, address account) external;
        function renounceRole(bytes32 role, address callerConfirmation) external;
    }

    /// Symbiotic `IVault` (and `IVaultStorage`): the parts the bridge reads, and deposits.
    #[sol(rpc, all_derives)]
    interface IVault {
        function delegator() external view returns (address);
        function slasher() external view returns (address);
        function epochDuration() external view returns (uint48);
        function deposit(address onBehalfOf, uint256 amount)
            external returns (uint256 depositedAmount, uint256 mintedShares);
    }

    /// Symbiotic `IBaseDelegator`.
    #[sol(rpc, all_derives)]
    interface IBaseDelegator {
        function OPERATOR_VAULT_OPT_IN_SERVICE() external view returns (address);
    }

    /// Symbiotic `IOptInService`.
    #[sol(rpc, all_derives)]
    interface IOptInService {
        function WHO_REGISTRY() external view returns (address);
    }

    /// Symbiotic `IRegistry` (the `OperatorRegistry`).
    #[sol(rpc, all_derives)]
    interface IRegistry {
        function totalEntities() external view returns (uint256);
        function entity(uint256 index) external view returns (address);
    }

    /// Symbiotic `IVetoSlasher`.
    #[sol(rpc, all_derives)]
    interface IVetoSlasher {
        error AlreadySet();
        error InsufficientSlash();
        error InvalidCaptureTimestamp();
        error NoResolver();
        error NotNetwork();
        error NotResolver();
        error SlashPeriodEnded();
        error SlashRequestCompleted();
        error SlashRequestNotExist();
        error VetoPeriodEnded();
        error VetoPeriodNotEnded();

        event VetoSlash(uint256 indexed slashIndex, address indexed resolver);

        function slashRequests(uint256 slashIndex) external view returns (bytes32 subnetwork,
            address operator, uint256 amount, uint48 captureTimestamp, uint48 vetoDeadline, bool completed);
        function vetoDuration() external view returns (uint48);
        function vetoSlash(uint256 slashIndex, bytes calldata hints) external;
    }
}
