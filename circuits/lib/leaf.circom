pragma circom 2.1.6;

include "fold.circom";

// AccountLeaf(S): the account leaf of docs/commitments.md from its id hash and S slots.
// Parameters:
//   S: number of slots, A + 2P, >= 1.
// Inputs:
//   idHash: Poseidon(account_id_digest, salt), computed off-circuit by the holder's tools.
//   slot[S]: v + 2^63 per value, in leaf order [x_1..x_A, q_1, c_1, ..., q_P, c_P].
// Outputs:
//   leaf: FoldHash(M + 1, 12) over [idHash, field_0..field_(M-1)], M = ceil(S / 3),
//     field_j = slot[3j] + slot[3j+1]*2^64 + slot[3j+2]*2^128 (a missing slot is 0).
// Enforces: the packing and the hash.
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
    component fold = FoldHash(M + 1, 12);
    fold.in[0] <== idHash;
    for (var j = 0; j < M; j++) {
        var f = 0;
        for (var k = 0; k < 3; k++) {
            if (3 * j + k < S) {
                f += slot[3 * j + k] * 2 ** (64 * k);
            }
        }
        fold.in[j + 1] <== f;
    }
    leaf <== fold.out;
}
