pragma circom 2.1.6;

include "circomlib/circuits/poseidon.circom";

// FoldHash(N, FIRST): the Python `fold_hash` (zkmargin/commitments.py): h = first
// Poseidon over the first FIRST values, then h = Poseidon(h, next up to 11 values) until
// all N values are absorbed. FIRST in 1..12.
//   in[N]: field elements. out: the hash.
// Enforces the hash; no range checks (callers range-check what they pass).
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
