pragma circom 2.1.6;

include "circomlib/circuits/poseidon.circom";

// SubtreeRoot(DEPTH): the root of the binary Poseidon tree over 2^DEPTH leaves, as
// zkmargin/merkle.py builds it.
// Parameters:
//   DEPTH: tree depth, 0..24 (K = 2^DEPTH leaves; at depth 0 the root is the leaf).
// Inputs:
//   leaves[2^DEPTH]: the leaves, left to right.
// Outputs:
//   root: the root, every node = Poseidon(left, right).
// Enforces: the hashing.
// NOTE: the leaves are whatever the caller passes: the caller constrains them (Batch
//   wires AccountLeaf outputs).
template SubtreeRoot(DEPTH) {
    assert(DEPTH >= 0 && DEPTH <= 24);
    var K = 2 ** DEPTH;
    signal input leaves[K];
    signal output root;
    // heap order, 1-based: node n has children 2n and 2n + 1; stored at node[n - 1]
    component h[K];
    signal node[2 * K - 1];
    for (var n = 0; n < K; n++) {
        node[K + n - 1] <== leaves[n];
    }
    for (var n = K - 1; n >= 1; n--) {
        h[n] = Poseidon(2);
        h[n].inputs[0] <== node[2 * n - 1];
        h[n].inputs[1] <== node[2 * n];
        node[n - 1] <== h[n].out;
    }
    root <== node[0];
}
