pragma circom 2.1.6;

include "circomlib/circuits/bitify.circom";

// RangeCheck(N): constrains 0 <= in < 2^N (in as an integer in [0, p)).
//   N: bit width, 1..252 (so 2^N < p and the bit decomposition is unique).
//   in: the value.
// Enforces everything it states; no caller obligation.
template RangeCheck(N) {
    assert(N >= 1 && N <= 252);
    signal input in;
    component bits = Num2Bits(N);
    bits.in <== in;
}

// SignedInt64(): a signed 64-bit quantity with |in| < 2^63, negative values written as
// p - |in| (circom's usual representation).
//   in: the value.
//   slot: in + 2^63, in [1, 2^64 - 1] (the leaf packing slot).
//   nonNeg: 1 iff in >= 0 (bit 63 of slot).
// Enforces: slot has 64 bits (so in is in [-2^63, 2^63) with no field wrap) and slot != 0
// (so in != -2^63). No caller obligation.
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

// NonNegative(W): flag = 1 iff in >= 0, for an integer in with |in| < 2^W.
//   W: magnitude bound in bits, 1..251.
//   in: the value (negative as p - |in|).
//   flag: 1 iff in >= 0.
// Enforces: in + 2^W has W + 1 bits, which both range-checks |in| < 2^W (an honest caller
// guarantees it; a dishonest witness cannot satisfy the decomposition otherwise) and
// yields the sign as the top bit.
template NonNegative(W) {
    assert(W >= 1 && W <= 251);
    signal input in;
    signal output flag;
    component bits = Num2Bits(W + 1);
    bits.in <== in + 2 ** W;
    flag <== bits.out[W];
}

// Number of bits of a non-negative compile-time integer (0 -> 0).
function bitLength(v) {
    var n = 0;
    var t = v;
    while (t > 0) {
        n++;
        t = t \ 2;
    }
    return n;
}
