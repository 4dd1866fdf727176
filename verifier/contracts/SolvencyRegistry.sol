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
///         (epoch, verifier, root, paramsHash, batchesRoot, batchCount); anyone then submits
///         the epoch's Groth16 batch proofs, and each one that verifies under the epoch's
///         verifier is recorded once.
///
/// WHAT `epochFullyVerified(epoch) == true` PROVES, and nothing more:
///   for every batch index i in 0 .. batchCount-1 a pair (i, commitment_i) is a leaf of the
///   epoch's batchesRoot, the commitments commitment_0 .. commitment_(n-1) are pairwise
///   distinct, and a Groth16 proof of commitment_i as the one public signal was accepted by
///   `verifyProof` of the verifier contract pinned at publication (its address, and the
///   keccak256 of its runtime code, which every submission re-checks).
///
/// WHAT IT DOES NOT PROVE. The verifier, the root, the params hash and batchesRoot are the
/// publisher's (the exchange's) own choice, and the contract takes them as given:
///   * that the pinned verifier is Groth16Verifier.sol of the zkmargin batch circuit's key,
///     or that this key came from a setup whose secrets nobody knows (an "always true"
///     contract is accepted as a verifier here);
///   * that `root` and `paramsHash` have anything to do with the commitments: they are
///     recorded, never recomputed (the commitments are Poseidon hashes of the batch index,
///     batch subtree root, params hash and batch totals; their preimages are off chain);
///   * that the batch index inside commitment_i is i, that the batch roots form `root`, or
///     that the batch totals add up to any published total.
/// All of that is the off-chain audit's job: `zkmargin audit DIR --rpc URL --registry ADDR
/// --epoch N` audits the artifacts, then compares this registry with them: the registry's
/// and the verifier's runtime code against the sources compiled by the pinned solc (the
/// verifier rendered from the audited key), the verifier's code hash against the one pinned
/// here, root, params hash and batch count against the manifest, and batchesRoot against the
/// tree over the audited (index, commitment) pairs.
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
/// padding position or an inner node can never stand in for a batch leaf. A commitment
/// fills at most one batch index of an epoch (CommitmentReused), so one proved batch can
/// never count for several.
///
/// A proof that does not verify reverts (ProofRejected), and Groth16Verifier.sol itself
/// reverts when a precompile fails (which includes running out of gas), so a submission
/// starved of gas reverts: nothing is ever recorded from a call that could not finish its
/// check.
contract SolvencyRegistry {
    struct Epoch {
        uint256 root;
        uint256 paramsHash;
        bytes32 batchesRoot;
        /// keccak256 of the verifier's runtime code at publication.
        bytes32 verifierCodehash;
        IZkMarginBatchVerifier verifier; // packed with the counts: one slot
        uint48 batchCount; // 0: not published
        uint48 verifiedCount;
    }

    /// The exchange: the only address that may publish epochs.
    address public owner;

    mapping(uint256 epoch => Epoch) private _epochs;
    /// Verified batches of an epoch, one bit per batch index (256 per word).
    mapping(uint256 epoch => mapping(uint256 word => uint256 bits)) private _verified;
    /// Commitments already recorded in an epoch.
    mapping(uint256 epoch => mapping(uint256 commitment => bool)) private _used;

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event EpochPublished(
        uint256 indexed epoch,
        address indexed verifier,
        bytes32 verifierCodehash,
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
    error VerifierWithoutCode(address verifier);
    error EpochExists(uint256 epoch);
    error BadBatchCount(uint256 batchCount);
    error UnknownEpoch(uint256 epoch);
    error BatchIndexOutOfRange(uint256 epoch, uint256 batchIndex, uint256 batchCount);
    error AlreadyVerified(uint256 epoch, uint256 batchIndex);
    error BadPathLength(uint256 length, uint256 depth);
    error NotInEpoch(uint256 epoch, uint256 batchIndex, uint256 commitment);
    error CommitmentReused(uint256 epoch, uint256 commitment);
    error VerifierCodeChanged(uint256 epoch, address verifier);
    error ProofRejected(uint256 epoch, uint256 batchIndex);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor() {
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// @notice Publish an epoch, once; its fields can never change afterwards. `verifier`
    ///         must hold code (so it is not the zero address, an account without code or a
    ///         precompile); the keccak256 of that code is pinned with it, and every
    ///         submission checks that the code is still the same. `batchCount` is at least
    ///         1 and below 2^48.
    function publishEpoch(
        uint256 epoch,
        IZkMarginBatchVerifier verifier,
        uint256 root,
        uint256 paramsHash,
        bytes32 batchesRoot,
        uint256 batchCount
    ) external onlyOwner {
        if (address(verifier).code.length == 0) revert VerifierWithoutCode(address(verifier));
        if (batchCount == 0 || batchCount > type(uint48).max) revert BadBatchCount(batchCount);
        Epoch storage e = _epochs[epoch];
        if (e.batchCount != 0) revert EpochExists(epoch);
        bytes32 codehash = address(verifier).codehash;
        e.root = root;
        e.paramsHash = paramsHash;
        e.batchesRoot = batchesRoot;
        e.verifierCodehash = codehash;
        e.verifier = verifier;
        e.batchCount = uint48(batchCount);
        emit EpochPublished(
            epoch, address(verifier), codehash, root, paramsHash, batchesRoot, batchCount
        );
    }

    /// @notice Verify batch `batchIndex` of `epoch` and record it. Reverts unless the epoch
    ///         is published, batchIndex < batchCount, the batch is not yet recorded, `path`
    ///         proves (batchIndex, commitment) under the epoch's batchesRoot, `commitment`
    ///         fills no other index of the epoch, the epoch's verifier still has the code
    ///         pinned at publication, and that verifier accepts the proof (a, b, c in its EVM
    ///         order) for `commitment`.
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
        _checkLeaf(epoch, e, count, batchIndex, commitment, path);
        if (!_verifierOf(epoch, e).verifyProof(a, b, c, [commitment])) {
            revert ProofRejected(epoch, batchIndex);
        }

        _verified[epoch][word] = bits | bit;
        _used[epoch][commitment] = true;
        uint48 done = e.verifiedCount + 1;
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

    /// @notice The epoch as published, and how many of its batches are recorded (all zero
    ///         when the epoch is not published).
    function getEpoch(uint256 epoch)
        external
        view
        returns (
            address verifier,
            bytes32 verifierCodehash,
            uint256 root,
            uint256 paramsHash,
            bytes32 batchesRoot,
            uint256 batchCount,
            uint256 verifiedCount
        )
    {
        Epoch storage e = _epochs[epoch];
        return (
            address(e.verifier),
            e.verifierCodehash,
            e.root,
            e.paramsHash,
            e.batchesRoot,
            e.batchCount,
            e.verifiedCount
        );
    }

    function isBatchVerified(uint256 epoch, uint256 batchIndex) external view returns (bool) {
        return _verified[epoch][batchIndex >> 8] & (uint256(1) << (batchIndex & 0xff)) != 0;
    }

    function verifiedBatches(uint256 epoch) external view returns (uint256) {
        return _epochs[epoch].verifiedCount;
    }

    /// @notice True when the epoch is published and every batch index 0 .. batchCount-1 is
    ///         recorded: each with a distinct commitment that is in batchesRoot at that index
    ///         and whose Groth16 proof the pinned verifier accepted. It does NOT show that
    ///         the verifier is zkmargin's for an honestly set-up key, nor that root and
    ///         paramsHash relate to the commitments, nor that the batch indices inside the
    ///         commitments match (see the contract notes: the off-chain audit's job).
    function epochFullyVerified(uint256 epoch) external view returns (bool) {
        Epoch storage e = _epochs[epoch];
        return e.batchCount != 0 && e.verifiedCount == e.batchCount;
    }

    /// (batchIndex, commitment) is the leaf of `path` under the epoch's batchesRoot, the path
    /// has the tree's depth, and `commitment` fills no other index of the epoch.
    function _checkLeaf(
        uint256 epoch,
        Epoch storage e,
        uint256 count,
        uint256 batchIndex,
        uint256 commitment,
        bytes32[] calldata path
    ) private view {
        uint256 depth;
        while ((uint256(1) << depth) < count) ++depth; // the least d with 2^d >= count
        if (path.length != depth) revert BadPathLength(path.length, depth);
        if (batchesRootOf(batchIndex, commitment, path) != e.batchesRoot) {
            revert NotInEpoch(epoch, batchIndex, commitment);
        }
        if (_used[epoch][commitment]) revert CommitmentReused(epoch, commitment);
    }

    /// The epoch's verifier, provided its code is still the code pinned at publication.
    function _verifierOf(uint256 epoch, Epoch storage e)
        private
        view
        returns (IZkMarginBatchVerifier verifier)
    {
        verifier = e.verifier;
        if (address(verifier).codehash != e.verifierCodehash) {
            revert VerifierCodeChanged(epoch, address(verifier));
        }
    }
}
