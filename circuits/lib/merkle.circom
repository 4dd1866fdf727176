pragma circom 2.1.6;

include "circomlib/circuits/poseidon.circom";

// SubtreeRoot(DEPTH): root of the binary Poseidon tree over 2^DEPTH leaves
// (node = Poseidon(left, right)), as zkmargin/merkle.py builds it.
//   leaves[2^DEPTH], root. Enforces the hashing; leaves are whatever the caller passes.
template SubtreeRoot(DEPTH) {
    assert(DEPTH >= 0 && DEPTH <= 24);
    var K = 2 ** DEPTH;
    signal input leaves[K];
    signal output root;
    component h[K];  // h[1..K-1] in heap order: node n has children 2n and 2n + 1
    signal node[2 * K];
    for (var n = 0; n < K; n++) {
        node[K + n] <== leaves[n];
    }
    for (var n = K - 1; n >= 1; n--) {
        h[n] = Poseidon(2);
        h[n].inputs[0] <== node[2 * n];
        h[n].inputs[1] <== node[2 * n + 1];
        node[n] <== h[n].out;
    }
    root <== node[1];
}
