pragma circom 2.1.6;

include "int.circom";
include "fold.circom";

// Threshold(): the least integer n with n * M >= X * 1e8, capped at 2^63: from X (a bound,
// USD x 1e8, in [1, 2^63)) and M (a mark or price, USD x 1e8, in [1, 2^63)).
// Parameters: none.
// Inputs:
//   bound: X; unit: M (both range-checked by the caller).
//   ceil, clamp: hints, ceil(X * 1e8 / M) and 1 iff it is at least 2^63.
// Outputs:
//   thr: min(ceil(X * 1e8 / M), 2^63). For an integer n in [0, 2^63):
//     n * M >= X * 1e8 exactly when n >= thr (2^63 is never reached).
// Enforces: the ceiling by ceil < 2^90 (X * 1e8 < 2^90, so the product cannot wrap) and
//   0 <= ceil * M - X * 1e8 < M; the clamp flag by a 90-bit range check on the side of 2^63
//   it states.
// NOTE: the caller range-checks bound and unit to [1, 2^63).
template Threshold() {
    signal input bound;
    signal input unit;
    signal input ceil;
    signal input clamp;
    signal output thr;
    component ceilOk = RangeCheck(90);
    ceilOk.in <== ceil;
    signal gap <== ceil * unit - bound * 100000000;
    component gapLo = RangeCheck(63);
    gapLo.in <== gap;
    component gapHi = RangeCheck(63);
    gapHi.in <== unit - 1 - gap;
    clamp * (clamp - 1) === 0;
    signal clampGap <== clamp * (2 * ceil - 2 ** 64 + 1);
    component clampOk = RangeCheck(90);
    clampOk.in <== 2 ** 63 - 1 - ceil + clampGap;
    thr <== ceil + clamp * (2 ** 63 - ceil);
}

// IncreasingBounds(N): N bounds, the first >= 1, each above the previous one, all < 2^63.
// Parameters: N >= 0.
// Inputs: bound[N].
// Outputs: none.
// Enforces: 1 <= bound[0] < bound[1] < ... < bound[N-1] < 2^63 (63-bit range checks of
//   the first bound minus 1, of every step minus 1 and of the last bound).
// NOTE: no caller obligation.
template IncreasingBounds(N) {
    signal input bound[N];
    component stepOk[N];
    for (var k = 0; k < N; k++) {
        stepOk[k] = RangeCheck(63);
        stepOk[k].in <== k == 0 ? bound[0] - 1 : bound[k] - bound[k - 1] - 1;
    }
    component lastOk[N > 0 ? 1 : 0];
    for (var k = 0; k < N && k < 1; k++) {
        lastOk[k] = RangeCheck(63);
        lastOk[k].in <== bound[N - 1];  // below 2^63 (the steps bound the others)
    }
}

// RiskParams(A, P, L, T, O, G, S): checks the risk parameters, derives what every account
// of the batch needs from them and hashes them, as zkmargin/statement.py `params_hash` does.
// Parameters:
//   A: assets, >= 1; P: perps, >= 0; L: brackets per perp, >= 2; T: collateral tiers per
//   asset, >= 1; O: options, >= 0; G: portfolio groups, >= 0 (>= 1 when O > 0); S:
//   scenarios, >= 0 (>= 1 when G > 0).
// Inputs:
//   assetSym[A], perpSym[P], optSym[O], groupSym[G]: the symbols as field elements (the
//   big-endian integer of their ASCII bytes, at most 31 of them); scenarioName[S]: the
//   first 31 bytes of each name's SHA-256.
//   price[A], mark[P]: USD x 1e8; tierWeight[A][T]: bps; tierBound[A][T-1]: tier upper
//   edges (USD x 1e8); bound[P][L-1]: bracket upper edges, USD x 1e8; rate[P][L]: ppm;
//   perpGroup[P][G]: 0/1, the perp's group (a row of zeros: a bracket perp);
//   perpRisk[P][S], optRisk[O][S]: loss of one long contract per scenario (USD x 1e8,
//   signed); optMark[O], optShortMin[O]: USD x 1e8; optGroup[O][G]: 0/1, the option's
//   group.
//   thrCeil[P][L-1], thrClamp[P][L-1]: hints of the bracket thresholds (Threshold);
//   tierCeil[A][T-1], tierClamp[A][T-1]: hints of the tier thresholds (Threshold).
// Outputs:
//   ded[P][L]: D_i0 = 0, D_ik = D_i(k-1) + bound_i(k-1) * 1e8 * (rate_ik - rate_i(k-1)).
//   thr[P][L-1]: the least |q| whose notional |q| * mark reaches the bound (capped 2^63).
//   markRate[P][L] = mark * rate.
//   posWeight[A][T] = price * (tierWeight - 10000).
//   tierConst[A][T]: C_a0 = 0, C_ak = C_a(k-1) + tierBound_(k-1) * 1e8 * (w_(k-1) - w_k)
//     (USD x 1e20).
//   tierThr[A][T-1]: the least balance whose value x * price reaches the tier bound
//     (capped 2^63).
//   groupRisk[G][P+O][S]: member * risk (perps first, then options); groupShort[G][O]:
//     member * short minimum.
//   hash: FoldHash([A, P, L, T, O, G, S, assetSym.., perpSym.., optSym.., groupSym..,
//     scenarioName.., price.., tierWeight.. (asset-major), tierBound.., mark..,
//     bound.. (perp-major), rate.., perpGroup.., perpRisk.., optMark.., optShortMin..,
//     optGroup.., optRisk..]).
// Enforces: price, mark in [1, 2^63); tierWeight in [0, 10000], never increasing per
//   asset; tierBound and bound strictly increasing in [1, 2^63); rate in [0, 10^6], non-
//   decreasing per perp; risk values in [-2^63, 2^63); optMark, optShortMin in [0, 2^63);
//   group rows boolean with at most one 1 per perp and exactly one per option; the
//   thresholds (Threshold).
// NOTE: the symbols and scenario names are hashed, not range-checked: the verifier
//   recomputes the hash from the published params.json, whose symbols it encodes itself.
//   For the same reason nothing here ties a perp's group row to its rates: the params hash
//   binds both to the verifier's own reading of params.json (a group perp has rate 0).
template RiskParams(A, P, L, T, O, G, S) {
    assert(A >= 1 && P >= 0 && L >= 2 && T >= 1 && O >= 0 && G >= 0 && S >= 0);
    assert(O == 0 || G >= 1);
    assert(G == 0 || S >= 1);
    signal input assetSym[A];
    signal input perpSym[P];
    signal input optSym[O];
    signal input groupSym[G];
    signal input scenarioName[S];
    signal input price[A];
    signal input tierWeight[A][T];
    signal input tierBound[A][T - 1];
    signal input mark[P];
    signal input bound[P][L - 1];
    signal input rate[P][L];
    signal input perpGroup[P][G];
    signal input perpRisk[P][S];
    signal input optMark[O];
    signal input optShortMin[O];
    signal input optGroup[O][G];
    signal input optRisk[O][S];
    signal input thrCeil[P][L - 1];
    signal input thrClamp[P][L - 1];
    signal input tierCeil[A][T - 1];
    signal input tierClamp[A][T - 1];
    signal output ded[P][L];
    signal output thr[P][L - 1];
    signal output markRate[P][L];
    signal output posWeight[A][T];
    signal output tierConst[A][T];
    signal output tierThr[A][T - 1];
    signal output groupRisk[G][P + O][S];
    signal output groupShort[G][O];
    signal output hash;

    // ---- assets: price, tiers ---------------------------------------------------------
    component priceOk[A];
    component weightLo[A][T];
    component weightHi[A][T];
    component weightDown[A][T];
    component tierBounds[A];
    component tierThreshold[A][T - 1];
    signal tierStep[A][T];
    for (var a = 0; a < A; a++) {
        priceOk[a] = RangeCheck(63);
        priceOk[a].in <== price[a] - 1;
        tierBounds[a] = IncreasingBounds(T - 1);
        for (var k = 0; k < T - 1; k++) {
            tierBounds[a].bound[k] <== tierBound[a][k];
            tierThreshold[a][k] = Threshold();
            tierThreshold[a][k].bound <== tierBound[a][k];
            tierThreshold[a][k].unit <== price[a];
            tierThreshold[a][k].ceil <== tierCeil[a][k];
            tierThreshold[a][k].clamp <== tierClamp[a][k];
            tierThr[a][k] <== tierThreshold[a][k].thr;
        }
        for (var k = 0; k < T; k++) {
            weightLo[a][k] = RangeCheck(14);
            weightLo[a][k].in <== tierWeight[a][k];
            weightHi[a][k] = RangeCheck(14);
            weightHi[a][k].in <== 10000 - tierWeight[a][k];
            posWeight[a][k] <== price[a] * (tierWeight[a][k] - 10000);
            if (k == 0) {
                tierStep[a][k] <== 0;
                tierConst[a][k] <== 0;
            } else {
                weightDown[a][k] = RangeCheck(14);
                weightDown[a][k].in <== tierWeight[a][k - 1] - tierWeight[a][k];
                tierStep[a][k] <== tierBound[a][k - 1] * (tierWeight[a][k - 1] - tierWeight[a][k]);
                tierConst[a][k] <== tierConst[a][k - 1] + tierStep[a][k] * 100000000;
            }
        }
    }

    // ---- perps: mark, brackets ----------------------------------------------------------
    component markOk[P];
    component bounds[P];
    component threshold[P][L - 1];
    component rateLo[P][L];
    component rateHi[P][L];
    component rateUp[P][L];
    signal step[P][L];
    for (var i = 0; i < P; i++) {
        markOk[i] = RangeCheck(63);
        markOk[i].in <== mark[i] - 1;
        bounds[i] = IncreasingBounds(L - 1);
        for (var k = 0; k < L - 1; k++) {
            bounds[i].bound[k] <== bound[i][k];
            threshold[i][k] = Threshold();
            threshold[i][k].bound <== bound[i][k];
            threshold[i][k].unit <== mark[i];
            threshold[i][k].ceil <== thrCeil[i][k];
            threshold[i][k].clamp <== thrClamp[i][k];
            thr[i][k] <== threshold[i][k].thr;
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

    // ---- portfolio groups: members, risk arrays, option marks --------------------------
    component optMarkOk[O];
    component shortMinOk[O];
    for (var j = 0; j < O; j++) {
        optMarkOk[j] = RangeCheck(63);
        optMarkOk[j].in <== optMark[j];
        shortMinOk[j] = RangeCheck(63);
        shortMinOk[j].in <== optShortMin[j];
    }
    component riskOk[P + O][S];
    signal perpMember[P];
    for (var i = 0; i < P; i++) {
        var member = 0;
        for (var g = 0; g < G; g++) {
            perpGroup[i][g] * (perpGroup[i][g] - 1) === 0;
            member += perpGroup[i][g];
        }
        perpMember[i] <== member;
        perpMember[i] * (perpMember[i] - 1) === 0;      // a perp: in at most one group
        for (var s = 0; s < S; s++) {
            riskOk[i][s] = RangeCheck(64);
            riskOk[i][s].in <== perpRisk[i][s] + 2 ** 63;
        }
    }
    for (var j = 0; j < O; j++) {
        var member = 0;
        for (var g = 0; g < G; g++) {
            optGroup[j][g] * (optGroup[j][g] - 1) === 0;
            member += optGroup[j][g];
        }
        member === 1;                                    // an option: in exactly one group
        for (var s = 0; s < S; s++) {
            riskOk[P + j][s] = RangeCheck(64);
            riskOk[P + j][s].in <== optRisk[j][s] + 2 ** 63;
        }
    }
    for (var g = 0; g < G; g++) {
        for (var s = 0; s < S; s++) {
            for (var i = 0; i < P; i++) {
                groupRisk[g][i][s] <== perpGroup[i][g] * perpRisk[i][s];
            }
            for (var j = 0; j < O; j++) {
                groupRisk[g][P + j][s] <== optGroup[j][g] * optRisk[j][s];
            }
        }
        for (var j = 0; j < O; j++) {
            groupShort[g][j] <== optGroup[j][g] * optShortMin[j];
        }
    }

    // ---- the hash -------------------------------------------------------------------------
    var N = 7 + A + P + O + G + S + A + A * T + A * (T - 1) + P + P * (L - 1) + P * L
        + P * G + P * S + O + O + O * G + O * S;
    component fold = FoldHash(N, 12);
    fold.in[0] <== A;
    fold.in[1] <== P;
    fold.in[2] <== L;
    fold.in[3] <== T;
    fold.in[4] <== O;
    fold.in[5] <== G;
    fold.in[6] <== S;
    var o = 7;
    for (var a = 0; a < A; a++) { fold.in[o] <== assetSym[a]; o++; }
    for (var i = 0; i < P; i++) { fold.in[o] <== perpSym[i]; o++; }
    for (var j = 0; j < O; j++) { fold.in[o] <== optSym[j]; o++; }
    for (var g = 0; g < G; g++) { fold.in[o] <== groupSym[g]; o++; }
    for (var s = 0; s < S; s++) { fold.in[o] <== scenarioName[s]; o++; }
    for (var a = 0; a < A; a++) { fold.in[o] <== price[a]; o++; }
    for (var a = 0; a < A; a++) {
        for (var k = 0; k < T; k++) { fold.in[o] <== tierWeight[a][k]; o++; }
    }
    for (var a = 0; a < A; a++) {
        for (var k = 0; k < T - 1; k++) { fold.in[o] <== tierBound[a][k]; o++; }
    }
    for (var i = 0; i < P; i++) { fold.in[o] <== mark[i]; o++; }
    for (var i = 0; i < P; i++) {
        for (var k = 0; k < L - 1; k++) { fold.in[o] <== bound[i][k]; o++; }
    }
    for (var i = 0; i < P; i++) {
        for (var k = 0; k < L; k++) { fold.in[o] <== rate[i][k]; o++; }
    }
    for (var i = 0; i < P; i++) {
        for (var g = 0; g < G; g++) { fold.in[o] <== perpGroup[i][g]; o++; }
    }
    for (var i = 0; i < P; i++) {
        for (var s = 0; s < S; s++) { fold.in[o] <== perpRisk[i][s]; o++; }
    }
    for (var j = 0; j < O; j++) { fold.in[o] <== optMark[j]; o++; }
    for (var j = 0; j < O; j++) { fold.in[o] <== optShortMin[j]; o++; }
    for (var j = 0; j < O; j++) {
        for (var g = 0; g < G; g++) { fold.in[o] <== optGroup[j][g]; o++; }
    }
    for (var j = 0; j < O; j++) {
        for (var s = 0; s < S; s++) { fold.in[o] <== optRisk[j][s]; o++; }
    }
    assert(o == N);
    hash <== fold.out;
}
