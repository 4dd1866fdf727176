pragma circom 2.1.6;

include "int.circom";
include "fold.circom";

// RiskParams(A, P, L): checks the risk parameters, derives what every account of the batch
// needs from them (deductions D_ik, |q| thresholds, mark*rate, price*(weight-10000)) and
// hashes the parameters, as zkmargin/statement.py `params_hash` does.
// Parameters:
//   A: assets, >= 1; P: perps, >= 0; L: brackets per perp, >= 2.
// Inputs:
//   assetSym[A], perpSym[P]: the symbols as field elements (the big-endian integer of
//   their ASCII bytes, at most 31 of them);
//   price[A], mark[P]: USD x 1e8; weight[A]: bps; bound[P][L-1]: bracket upper edges,
//   USD x 1e8; rate[P][L]: maintenance rates, ppm.
//   thrCeil[P][L-1], thrClamp[P][L-1]: hints, ceil(bound * 1e8 / mark) and 1 iff it is
//   at least 2^63.
// Outputs:
//   ded[P][L]: D_i0 = 0, D_ik = D_i(k-1) + bound_i(k-1) * 1e8 * (rate_ik - rate_i(k-1)).
//   thr[P][L-1]: min(ceil(bound * 1e8 / mark), 2^63), the least |q| whose notional
//     |q| * mark reaches the bound (2^63: unreachable by |q| < 2^63).
//   markRate[P][L] = mark * rate; posWeight[A] = price * (weight - 10000).
//   hash: FoldHash([A, P, L, assetSym.., perpSym.., price.., weight.., mark..,
//     bound.. (perp-major), rate.. (perp-major)]).
// Enforces: price, mark in [1, 2^63); weight in [0, 10000]; bound in [1, 2^63), strictly
//   increasing per perp; rate in [0, 10^6], non-decreasing per perp; the outputs: the
//   ceiling by thrCeil < 2^90 and 0 <= thrCeil * mark - bound * 1e8 < mark, the clamp by a
//   90-bit range check on the side of 2^63 the flag states.
// NOTE: the symbols are hashed, not range-checked: the verifier recomputes the hash from
//   the published params.json, whose symbols it encodes itself.
template RiskParams(A, P, L) {
    assert(A >= 1 && P >= 0 && L >= 2);
    signal input assetSym[A];
    signal input perpSym[P];
    signal input price[A];
    signal input weight[A];
    signal input mark[P];
    signal input bound[P][L - 1];
    signal input rate[P][L];
    signal input thrCeil[P][L - 1];
    signal input thrClamp[P][L - 1];
    signal output ded[P][L];
    signal output thr[P][L - 1];
    signal output markRate[P][L];
    signal output posWeight[A];
    signal output hash;

    component priceOk[A];
    component weightLo[A];
    component weightHi[A];
    for (var a = 0; a < A; a++) {
        priceOk[a] = RangeCheck(63);
        priceOk[a].in <== price[a] - 1;
        weightLo[a] = RangeCheck(14);
        weightLo[a].in <== weight[a];
        weightHi[a] = RangeCheck(14);
        weightHi[a].in <== 10000 - weight[a];
        posWeight[a] <== price[a] * (weight[a] - 10000);
    }
    component markOk[P];
    component lastOk[P];
    component boundOk[P][L];
    component rateLo[P][L];
    component rateHi[P][L];
    component rateUp[P][L];
    signal step[P][L];
    component ceilOk[P][L - 1];
    component gapLo[P][L - 1];
    component gapHi[P][L - 1];
    component clampOk[P][L - 1];
    signal gap[P][L - 1];
    signal clampGap[P][L - 1];
    for (var i = 0; i < P; i++) {
        markOk[i] = RangeCheck(63);
        markOk[i].in <== mark[i] - 1;
        for (var k = 0; k < L - 1; k++) {
            boundOk[i][k] = RangeCheck(63);
            // first bound >= 1; later bounds > the previous one
            boundOk[i][k].in <== k == 0 ? bound[i][0] - 1 : bound[i][k] - bound[i][k - 1] - 1;
        }
        lastOk[i] = RangeCheck(63);
        lastOk[i].in <== bound[i][L - 2];  // below 2^63 (the steps bound the others)
        for (var k = 0; k < L - 1; k++) {
            // thrCeil = ceil(X / M), X = bound * 1e8 < 2^90: thrCeil < 2^90 (so the product
            // below cannot wrap) and thrCeil * M - X in [0, M - 1]
            ceilOk[i][k] = RangeCheck(90);
            ceilOk[i][k].in <== thrCeil[i][k];
            gap[i][k] <== thrCeil[i][k] * mark[i] - bound[i][k] * 100000000;
            gapLo[i][k] = RangeCheck(63);
            gapLo[i][k].in <== gap[i][k];
            gapHi[i][k] = RangeCheck(63);
            gapHi[i][k].in <== mark[i] - 1 - gap[i][k];
            // clamp: flag 1 iff thrCeil >= 2^63, checked on the side it states
            thrClamp[i][k] * (thrClamp[i][k] - 1) === 0;
            clampGap[i][k] <== thrClamp[i][k] * (2 * thrCeil[i][k] - 2 ** 64 + 1);
            clampOk[i][k] = RangeCheck(90);
            clampOk[i][k].in <== 2 ** 63 - 1 - thrCeil[i][k] + clampGap[i][k];
            thr[i][k] <== thrCeil[i][k] + thrClamp[i][k] * (2 ** 63 - thrCeil[i][k]);
        }
        for (var k = 0; k < L; k++) {
            markRate[i][k] <== mark[i] * rate[i][k];
            rateLo[i][k] = RangeCheck(20);
            rateLo[i][k].in <== rate[i][k];
            rateHi[i][k] = RangeCheck(20);
            rateHi[i][k].in <== 1000000 - rate[i][k];
            if (k == 0) {
                step[i][k] <== 0;
                ded[i][k] <== 0;
            } else {
                rateUp[i][k] = RangeCheck(20);
                rateUp[i][k].in <== rate[i][k] - rate[i][k - 1];
                step[i][k] <== bound[i][k - 1] * (rate[i][k] - rate[i][k - 1]);
                ded[i][k] <== ded[i][k - 1] + step[i][k] * 100000000;
            }
        }
    }

    var N = 3 + 3 * A + 2 * P + P * (L - 1) + P * L;
    component fold = FoldHash(N, 12);
    fold.in[0] <== A;
    fold.in[1] <== P;
    fold.in[2] <== L;
    var o = 3;
    for (var a = 0; a < A; a++) { fold.in[o] <== assetSym[a]; o++; }
    for (var i = 0; i < P; i++) { fold.in[o] <== perpSym[i]; o++; }
    for (var a = 0; a < A; a++) { fold.in[o] <== price[a]; o++; }
    for (var a = 0; a < A; a++) { fold.in[o] <== weight[a]; o++; }
    for (var i = 0; i < P; i++) { fold.in[o] <== mark[i]; o++; }
    for (var i = 0; i < P; i++) {
        for (var k = 0; k < L - 1; k++) { fold.in[o] <== bound[i][k]; o++; }
    }
    for (var i = 0; i < P; i++) {
        for (var k = 0; k < L; k++) { fold.in[o] <== rate[i][k]; o++; }
    }
    hash <== fold.out;
}
