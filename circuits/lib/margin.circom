pragma circom 2.1.6;

include "int.circom";

// AccountMargin(A, P, L): the margin model of docs/margin.md for one account, exactly.
// Parameters:
//   A: assets, >= 1; P: perps, >= 0; L: brackets per perp, >= 2 (shorter tables are
//   padded, see zkmargin/statement.py `circuit_params`).
// Inputs (account, private):
//   x[A]: balances (amount x 1e8), q[P]: perp sizes (contracts x 1e8), c[P]: perp costs
//     (USD x 1e8), all signed with |v| < 2^63.
//   absq[P], qNonNeg[P]: hints, |q| and 1 iff q >= 0.
//   sel[P][L]: bracket selector hint, one-hot.
// Inputs (derived from the risk parameters once per batch by RiskParams):
//   price[A] (USD x 1e8); posWeight[A] = price * (weight - 10000); mark[P] (USD x 1e8);
//   thr[P][L-1]: |q| thresholds of the bracket bounds, min(ceil(B*1e8 / M), 2^63),
//   non-decreasing; markRate[P][L] = mark * rate; ded[P][L] = D_ik (F).
// Outputs:
//   equity E, requirement R (F = USD x 1e22, signed), deficient (1 iff E < R),
//   shortfall = max(0, R - E), pos[A] = max(x, 0), neg[A] = max(-x, 0),
//   slot[A + 2P] = v + 2^63 for the leaf, in leaf order [x..., q_1, c_1, ...].
// Enforces: |x|, |c| < 2^63 (SignedInt64); q = +-absq with qNonNeg boolean, and the
//   selected bracket's thresholds around absq: thr_(k-1) <= absq < thr_k (63-bit range
//   checks; thr_(-1) = 0, the last bracket's upper threshold is 2^63), which bounds absq
//   to [0, 2^63) and so |q| < 2^63; for an integer |q| the threshold test is the bracket
//   test B_(k-1)*1e8 <= |q|*M < B_k*1e8 exactly; MM_i = |q_i| * M_i * r_ik - D_ik, which
//   equals max_k (N r_k - D_k) since the rates never decrease and D is continuous.
// NOTE: the caller derives every per-batch input above from range-checked parameters
//   bound to the params hash (Batch: RiskParams).
template AccountMargin(A, P, L) {
    assert(A >= 1 && P >= 0 && L >= 2);
    signal input x[A];
    signal input q[P];
    signal input c[P];
    signal input absq[P];
    signal input qNonNeg[P];
    signal input sel[P][L];
    signal input price[A];
    signal input posWeight[A];
    signal input mark[P];
    signal input thr[P][L - 1];
    signal input markRate[P][L];
    signal input ded[P][L];

    signal output equity;
    signal output requirement;
    signal output deficient;
    signal output shortfall;
    signal output pos[A];
    signal output neg[A];
    signal output slot[A + 2 * P];

    // ---- equity: 100 * (sum x*P*w + 10000 * sum (q*M - c*1e8)) --------------------
    // x*P*w = 10000*x*P + max(x, 0)*P*(w - 10000): the weight applies to positive
    // balances only (debts count in full)
    component xs[A];
    signal xp[A];
    signal posw[A];
    var collateral = 0;
    for (var a = 0; a < A; a++) {
        xs[a] = SignedInt64();
        xs[a].in <== x[a];
        slot[a] <== xs[a].slot;
        xp[a] <== x[a] * price[a];                        // |.| < 2^126
        pos[a] <== xs[a].nonNeg * x[a];
        neg[a] <== pos[a] - x[a];
        posw[a] <== pos[a] * posWeight[a];                // |.| < 2^140
        collateral += 10000 * xp[a] + posw[a];
    }
    component cs[P];
    signal qm[P];
    var pnl = 0;
    for (var i = 0; i < P; i++) {
        cs[i] = SignedInt64();
        cs[i].in <== c[i];
        slot[A + 2 * i] <== q[i] + 2 ** 63;               // in [1, 2^64): |q| < 2^63 below
        slot[A + 2 * i + 1] <== cs[i].slot;
        qm[i] <== q[i] * mark[i];                         // |.| < 2^126
        pnl += qm[i] - c[i] * 100000000;
    }
    equity <== 100 * (collateral + 10000 * pnl);

    // ---- requirement: sum_i MM_i, MM_i = |q_i| * (M_i r_sel) - D_sel ------------------
    signal selLo[P][L];
    signal selHi[P][L];
    signal selRate[P][L];
    signal selDed[P][L];
    signal mm[P];
    component lowerOk[P];
    component upperOk[P];
    var req = 0;
    for (var i = 0; i < P; i++) {
        qNonNeg[i] * (qNonNeg[i] - 1) === 0;
        q[i] === absq[i] * (2 * qNonNeg[i] - 1);
        var one = 0;
        var lo = 0;
        var hi = 0;
        var rm = 0;
        var d = 0;
        for (var k = 0; k < L; k++) {
            sel[i][k] * (sel[i][k] - 1) === 0;            // boolean
            one += sel[i][k];
            if (k >= 1) {
                selLo[i][k] <== sel[i][k] * thr[i][k - 1];
            } else {
                selLo[i][k] <== 0;
            }
            if (k < L - 1) {
                selHi[i][k] <== sel[i][k] * thr[i][k];
            } else {
                selHi[i][k] <== sel[i][k] * 2 ** 63;      // the last bracket is unbounded
            }
            lo += selLo[i][k];
            hi += selHi[i][k];
            selRate[i][k] <== sel[i][k] * markRate[i][k];
            selDed[i][k] <== sel[i][k] * ded[i][k];
            rm += selRate[i][k];
            d += selDed[i][k];
        }
        one === 1;                                        // exactly one bracket
        // thr_(k-1) <= |q| < thr_k: both gaps in [0, 2^63), thresholds in [0, 2^63]
        lowerOk[i] = RangeCheck(63);
        lowerOk[i].in <== absq[i] - lo;
        upperOk[i] = RangeCheck(63);
        upperOk[i].in <== hi - 1 - absq[i];
        mm[i] <== absq[i] * rm - d;                       // 0 <= MM < 2^146
        req += mm[i];
    }
    requirement <== req;

    // ---- sufficiency: |E - R| < 2^W -------------------------------------------------
    // |E| < 100 * (A + P) * 10^4 * 2^126.0001 < (A + P) * 2^146 and 0 <= R < P * 2^146
    // (|q| * M * 10^6), so |E - R| < (A + 2P) * 2^146 <= 2^W.
    var W = 146 + bitLength(A + 2 * P);
    component ok = NonNegative(W);
    ok.in <== equity - requirement;
    deficient <== 1 - ok.flag;
    shortfall <== deficient * (requirement - equity);
}
