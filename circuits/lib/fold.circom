pragma circom 2.1.6;

include "circomlib/circuits/poseidon.circom";

// FoldHash(N, FIRST): the hash of N field elements, folded as the Python `fold_hash`
// (zkmargin/commitments.py) computes it with FIRST = 12.
// Parameters:
//   N: number of values, >= 1.
//   FIRST: values absorbed by the first Poseidon, 1..12.
// Inputs:
//   in[N]: the values, field elements.
// Outputs:
//   out: h = Poseidon(in[0..FIRST)) (all of in when N <= FIRST), then
//     h = Poseidon(h, next up to 11 values) until all N values are absorbed.
// Enforces: out is that hash (circomlib Poseidon).
// NOTE: no range checks: the caller range-checks the values it passes.
template FoldHash(N, FIRST) {
    assert(N >= 1 && FIRST >= 1 && FIRST <= 12);
    signal input in[N];
    signal output out;
    var head = FIRST < N ? FIRST : N;
    var rest = N - head;
    var groups = (rest + 10) \ 11;
    component h[groups + 1];
    h[0] = Poseidon(head);
    for (var j = 0; j < head; j++) {
        h[0].inputs[j] <== in[j];
    }
    for (var g = 0; g < groups; g++) {
        var start = head + 11 * g;
        var size = N - start < 11 ? N - start : 11;
        h[g + 1] = Poseidon(size + 1);
        h[g + 1].inputs[0] <== h[g].out;
        for (var j = 0; j < size; j++) {
            h[g + 1].inputs[j + 1] <== in[start + j];
        }
    }
    out <== h[groups].out;
}
