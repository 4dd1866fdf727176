pragma circom 2.1.6;

include "fold.circom";

// AccountLeaf(S): the leaf of docs/commitments.md from id_hash and S = A + 2P slots.
//   idHash: Poseidon(account_id_digest, salt), computed off-circuit by the holder's tools.
//   slot[S]: v + 2^63 per value; the CALLER must range-check every slot to 64 bits
//   (AccountMargin's SignedInt64 does), which makes the packing below non-overlapping.
//   leaf: FoldHash over [idHash, field_1..field_m], field_j = slot[3j] + slot[3j+1]*2^64 +
//   slot[3j+2]*2^128 (< 2^192 < p).
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
