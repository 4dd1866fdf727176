pragma circom 2.1.6;

include "fold.circom";

// AccountLeaf(S): the account leaf of docs/commitments.md from its id hash and S slots.
// Parameters:
//   S: number of slots, A + 2P, >= 1.
// Inputs:
//   idHash: Poseidon(account_id_digest, salt), computed off-circuit by the holder's tools.
//   slot[S]: v + 2^63 per value, in leaf order [x_1..x_A, q_1, c_1, ..., q_P, c_P].
// Outputs:
//   leaf: FoldHash(W, 12) over [LEAF_TAG, idHash, field_0..field_(M-1), 0...],
//     M = ceil(S / 3), field_j = slot[3j] + slot[3j+1]*2^64 + slot[3j+2]*2^128 (a missing
//     slot is 0), W = leafWidth(S): zero fields are appended so that no Poseidon of the
//     fold takes fewer than 3 inputs. LEAF_TAG = leafTag(), "zkmargin/leaf" in ASCII.
// Enforces: the packing and the hash. A leaf is never a 2-input Poseidon, the hash of an
//   inner node of the tree, whatever the shape: leaves and nodes are separated by arity
//   (and the tag), so no account can pose as a subtree.
// NOTE: the caller range-checks every slot to 64 bits (AccountMargin's SignedInt64 does):
//   only then are the packed slots non-overlapping and every field below 2^192 < p.
// NOTE: idHash is taken as given: the caller binds it (Batch: the account holder checks it
//   through the inclusion proof; padding accounts have idHash 0).
template AccountLeaf(S) {
    assert(S >= 1);
    signal input idHash;
    signal input slot[S];
    signal output leaf;
    var M = (S + 2) \ 3;
    var W = leafWidth(S);
    component fold = FoldHash(W, 12);
    fold.in[0] <== leafTag();
    fold.in[1] <== idHash;
    for (var j = 0; j < M; j++) {
        var f = 0;
        for (var k = 0; k < 3; k++) {
            if (3 * j + k < S) {
                f += slot[3 * j + k] * 2 ** (64 * k);
            }
        }
        fold.in[j + 2] <== f;
    }
    for (var j = M + 2; j < W; j++) {
        fold.in[j] <== 0;
    }
    leaf <== fold.out;
}

// The domain tag of account leaves: the ASCII bytes of "zkmargin/leaf", big-endian
// (zkmargin/commitments.py LEAF_TAG).
function leafTag() {
    return 0x7a6b6d617267696e2f6c656166;
}

// leafWidth(S): how many values the leaf of S slots hashes: the tag, the id hash and
// ceil(S / 3) fields, plus one zero field when the last Poseidon of the fold would
// otherwise take only 2 inputs (12 in the first hash, then 11 per hash with the chain).
function leafWidth(S) {
    var n = (S + 2) \ 3 + 2;
    if (n > 12 && (n - 12) % 11 == 1) {
        n += 1;
    }
    return n;
}
