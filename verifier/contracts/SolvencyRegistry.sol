// SPDX-License-Identifier: Apache-2.0
// zkmargin (verifier/contracts/SolvencyRegistry.sol), shipped as is by
// `zkmargin contracts export`.
pragma solidity ^0.8.24;

/// The batch verifier's interface: Groth16Verifier.sol, generated per verification key.
interface IZkMarginBatchVerifier {
    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[1] calldata input
    ) external view returns (bool);
}

/// @title SolvencyRegistry: per-epoch margin-solvency proofs of one exchange, verified on chain.
/// @notice The owner (the exchange) publishes each epoch once, as
///         (epoch, root, paramsHash, batchesRoot, batchCount); anyone then submits the epoch's
///         Groth16 batch proofs, and each one that verifies is recorded once. An epoch is
///         fully verified when all of its batchCount batches are.
///
/// What binds what. The one public signal of a batch proof is its batch commitment, a
/// Poseidon hash in the circuit of (batch index, batch subtree root, params hash, batch
/// totals): the commitment already binds all of those to the proof. What the chain must
/// still learn is WHICH commitments make up the epoch. `batchesRoot` binds that set to the
/// epoch without storing every commitment on chain: it is a SHA-256 Merkle root over the
/// pairs (batchIndex, commitment), and a submission carries its sibling path. `root` and
/// `paramsHash` are recorded as published (the account tree root and the risk parameters'
/// hash of the artifacts' manifest.json); they are not recomputed here, because the batch
/// roots and totals behind each commitment are Poseidon preimages that an auditor checks
/// off chain against the published artifacts (batch.json, tree/levels.json).
///
/// batchesRoot, exactly (zkmargin/verifier/contracts.py computes the same):
///   n     = batchCount >= 1; depth = the least d with 2^d >= n (depth 0 when n == 1)
///   leaf  = sha256(abi.encode(uint256 batchIndex, uint256 commitment))   (64 bytes in)
///   pad   = bytes32(0) for the leaves at positions n .. 2^depth - 1
///   node  = sha256(abi.encode(bytes32 left, bytes32 right))              (64 bytes in)
///   level 0 is the 2^depth leaves by position; level k+1 pairs level k's nodes (2i, 2i+1)
///   batchesRoot = the one node of level depth
///   path  = the depth siblings of the leaf's ancestors, leaf level first; at level k, bit k
///           of batchIndex is 1 when the running node is the RIGHT child (sibling on the left)
/// A submitted path must have exactly `depth` entries, and batchIndex < batchCount, so a
/// padding position or an inner node can never stand in for a batch leaf.
///
/// A proof that does not verify reverts (ProofRejected), and the verifier itself reverts
/// when a precompile fails (which includes running out of gas), so a submission starved of
/// gas reverts: nothing is ever recorded from a call that could not finish its check.
contract SolvencyRegistry {
    struct Epoch {
        uint256 root;
        uint256 paramsHash;
        bytes32 batchesRoot;
        uint64 batchCount; // 0: not published
        uint64 verifiedCount;
        uint8 depth;
    }

    /// The batch verifier (one verification key, so one circuit shape): another circuit
    /// shape needs another registry.
    IZkMarginBatchVerifier public immutable verifier;
    /// The exchange: the only address that may publish epochs.
    address public owner;

    mapping(uint256 epoch => Epoch) private _epochs;
    /// Verified batches of an epoch, one bit per batch index (256 per word).
    mapping(uint256 epoch => mapping(uint256 word => uint256 bits)) private _verified;

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event EpochPublished(
        uint256 indexed epoch,
        uint256 root,
        uint256 paramsHash,
        bytes32 batchesRoot,
        uint256 batchCount
    );
    event BatchVerified(
        uint256 indexed epoch,
        uint256 indexed batchIndex,
        uint256 commitment,
        address submitter
    );
    event EpochVerified(uint256 indexed epoch);

    error NotOwner(address caller);
    error ZeroAddress();
    error EpochExists(uint256 epoch);
    error BadBatchCount(uint256 batchCount);
    error UnknownEpoch(uint256 epoch);
    error BatchIndexOutOfRange(uint256 epoch, uint256 batchIndex, uint256 batchCount);
    error AlreadyVerified(uint256 epoch, uint256 batchIndex);
    error BadPathLength(uint256 length, uint256 depth);
    error NotInEpoch(uint256 epoch, uint256 batchIndex, uint256 commitment);
    error ProofRejected(uint256 epoch, uint256 batchIndex);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor(IZkMarginBatchVerifier verifier_) {
        if (address(verifier_) == address(0)) revert ZeroAddress();
        verifier = verifier_;
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// @notice Publish an epoch, once; its fields can never change afterwards.
    function publishEpoch(
        uint256 epoch,
        uint256 root,
        uint256 paramsHash,
        bytes32 batchesRoot,
        uint256 batchCount
    ) external onlyOwner {
        if (batchCount == 0 || batchCount > type(uint64).max) revert BadBatchCount(batchCount);
        Epoch storage e = _epochs[epoch];
        if (e.batchCount != 0) revert EpochExists(epoch);
        uint8 depth;
        while ((uint256(1) << depth) < batchCount) ++depth;
        e.root = root;
        e.paramsHash = paramsHash;
        e.batchesRoot = batchesRoot;
        e.batchCount = uint64(batchCount);
        e.depth = depth;
        emit EpochPublished(epoch, root, paramsHash, batchesRoot, batchCount);
    }

    /// @notice Verify batch `batchIndex` of `epoch` and record it. Reverts unless the epoch
    ///         is published, batchIndex < batchCount, the batch is not yet recorded, `path`
    ///         proves (batchIndex, commitment) under the epoch's batchesRoot, and the proof
    ///         (a, b, c in the verifier's EVM order) verifies for `commitment`.
    function submitBatch(
        uint256 epoch,
        uint256 batchIndex,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256 commitment,
        bytes32[] calldata path
    ) external {
        Epoch storage e = _epochs[epoch];
        uint256 count = e.batchCount;
        if (count == 0) revert UnknownEpoch(epoch);
        if (batchIndex >= count) revert BatchIndexOutOfRange(epoch, batchIndex, count);
        uint256 word = batchIndex >> 8;
        uint256 bit = uint256(1) << (batchIndex & 0xff);
        uint256 bits = _verified[epoch][word];
        if (bits & bit != 0) revert AlreadyVerified(epoch, batchIndex);
        if (path.length != e.depth) revert BadPathLength(path.length, e.depth);
        if (batchesRootOf(batchIndex, commitment, path) != e.batchesRoot) {
            revert NotInEpoch(epoch, batchIndex, commitment);
        }
        if (!verifier.verifyProof(a, b, c, [commitment])) revert ProofRejected(epoch, batchIndex);

        _verified[epoch][word] = bits | bit;
        uint64 done = e.verifiedCount + 1;
        e.verifiedCount = done;
        emit BatchVerified(epoch, batchIndex, commitment, msg.sender);
        if (done == count) emit EpochVerified(epoch);
    }

    /// @notice The batchesRoot that (batchIndex, commitment) and `path` lead to (see the
    ///         contract notes for the exact tree).
    function batchesRootOf(uint256 batchIndex, uint256 commitment, bytes32[] calldata path)
        public
        pure
        returns (bytes32 node)
    {
        node = sha256(abi.encode(batchIndex, commitment));
        for (uint256 k; k < path.length; ++k) {
            node = (batchIndex >> k) & 1 == 0
                ? sha256(abi.encode(node, path[k]))
                : sha256(abi.encode(path[k], node));
        }
    }

    function getEpoch(uint256 epoch)
        external
        view
        returns (
            uint256 root,
            uint256 paramsHash,
            bytes32 batchesRoot,
            uint256 batchCount,
            uint256 verifiedCount
        )
    {
        Epoch storage e = _epochs[epoch];
        return (e.root, e.paramsHash, e.batchesRoot, e.batchCount, e.verifiedCount);
    }

    function isBatchVerified(uint256 epoch, uint256 batchIndex) external view returns (bool) {
        return _verified[epoch][batchIndex >> 8] & (uint256(1) << (batchIndex & 0xff)) != 0;
    }

    function verifiedBatches(uint256 epoch) external view returns (uint256) {
        return _epochs[epoch].verifiedCount;
    }

    /// @notice True when the epoch is published and every one of its batches is recorded.
    function epochFullyVerified(uint256 epoch) external view returns (bool) {
        Epoch storage e = _epochs[epoch];
        return e.batchCount != 0 && e.verifiedCount == e.batchCount;
    }
}
