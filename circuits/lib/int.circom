pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";

// RangeCheck(N): constrains 0 <= in < 2^N.
// Parameters:
//   N: bit width, 1..252 (so 2^N < p and the bit decomposition is unique).
// Inputs:
//   in: the value, an integer in [0, p).
// Outputs: none.
// Enforces: in < 2^N (Num2Bits(N) decomposes it; p - 1 or 2^N cannot be decomposed).
// NOTE: no caller obligation.
template RangeCheck(N) {
    assert(N >= 1 && N <= 252);
    signal input in;
    component bits = Num2Bits(N);
    bits.in <== in;
}

// SignedInt64(): range-checks a signed 64-bit value; gives its leaf slot and its sign.
// Parameters: none.
// Inputs:
//   in: the value, |in| < 2^63, negative values written as p - |in| (circom's usual
//     representation).
// Outputs:
//   slot: in + 2^63, in [1, 2^64 - 1] (the leaf packing slot).
//   nonNeg: 1 iff in >= 0 (bit 63 of slot).
// Enforces: slot has 64 bits (so in is in [-2^63, 2^63) with no field wrap) and slot != 0
//   (so in != -2^63): together |in| < 2^63 exactly.
// NOTE: no caller obligation.
template SignedInt64() {
    signal input in;
    signal output slot;
    signal output nonNeg;
    slot <== in + 2 ** 63;
    component bits = Num2Bits(64);
    bits.in <== slot;
    // slot = 0 would mean in = -2^63, outside |in| < 2^63: slot must have an inverse.
    signal inv;
    inv <-- slot != 0 ? 1 / slot : 0;
    slot * inv === 1;
    nonNeg <== bits.out[63];
}

// NonNegative(W): the sign of a signed integer whose magnitude has at most W bits.
// Parameters:
//   W: magnitude bound in bits, 1..251.
// Inputs:
//   in: the value, negative as p - |in|.
// Outputs:
//   flag: 1 iff in >= 0.
// Enforces: in + 2^W has W + 1 bits, i.e. -2^W <= in < 2^W (a value outside, or a field
//   wrap, cannot be decomposed), and flag is its top bit.
// NOTE: in = -2^W is accepted (with flag 0, the right sign): a caller that needs
//   |in| < 2^W strictly checks that bound itself.
template NonNegative(W) {
    assert(W >= 1 && W <= 251);
    signal input in;
    signal output flag;
    component bits = Num2Bits(W + 1);
    bits.in <== in + 2 ** W;
    flag <== bits.out[W];
}

// bitLength(v): the number of bits of a non-negative compile-time integer (0 -> 0).
function bitLength(v) {
    var n = 0;
    var t = v;
    while (t > 0) {
        n++;
        t = t \ 2;
    }
    return n;
}
