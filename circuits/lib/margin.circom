pragma circom 2.1.6;

include "int.circom";

// AccountMargin(A, P, L): the margin model of docs/margin.md for one account, exactly.
// Parameters:
//   A: assets, >= 1; P: perps, >= 0; L: brackets per perp, >= 2 (shorter tables are
//   padded, see zkmargin/statement.py `circuit_params`).
// Inputs (account, private):
//   x[A]: balances (amount x 1e8), q[P]: perp sizes (contracts x 1e8), c[P]: perp costs
//     (USD x 1e8), all signed with |v| < 2^63.
//   sel[P][L]: bracket selector hint, one-hot.
// Inputs (risk parameters, shared by the batch):
//   price[A] (USD x 1e8), weight[A] (bps), mark[P] (USD x 1e8), bound[P][L-1] (USD x 1e8,
//   strictly increasing), rate[P][L] (ppm, non-decreasing), ded[P][L] (D_ik, F).
// Outputs:
//   equity E, requirement R (F = USD x 1e22, signed), deficient (1 iff E < R),
//   shortfall = max(0, R - E), pos[A] = max(x, 0), neg[A] = max(-x, 0),
//   slot[A + 2P] = v + 2^63 for the leaf, in leaf order [x..., q_1, c_1, ...].
// Enforces: |v| < 2^63 for every account value (SignedInt64); the selector is one-hot and
//   picks the bracket containing N_i = |q_i| * M_i (B_(k-1)*1e8 <= N < B_k*1e8);
//   MM_i = N_i * r_ik - D_ik, which equals max_k (N r_k - D_k) since the rates never
//   decrease and D is continuous; the outputs as stated.
// NOTE: the caller range-checks the risk parameters (the ranges above) and binds them to
//   the params hash (Batch: RiskParams).
// NOTE: the caller derives ded from bound and rate in-circuit (Batch: RiskParams.ded).
template AccountMargin(A, P, L) {
    assert(A >= 1 && P >= 0 && L >= 2);
    signal input x[A];
    signal input q[P];
    signal input c[P];
    signal input sel[P][L];
    signal input price[A];
    signal input weight[A];
    signal input mark[P];
    signal input bound[P][L - 1];
    signal input rate[P][L];
    signal input ded[P][L];

    signal output equity;
    signal output requirement;
    signal output deficient;
    signal output shortfall;
    signal output pos[A];
    signal output neg[A];
    signal output slot[A + 2 * P];

    // ---- equity: 100 * (sum x*P*w + 10000 * sum (q*M - c*1e8)) --------------------
    component xs[A];
    signal xp[A];
    signal hw[A];
    signal xpw[A];
    var collateral = 0;
    for (var a = 0; a < A; a++) {
        xs[a] = SignedInt64();
        xs[a].in <== x[a];
        slot[a] <== xs[a].slot;
        xp[a] <== x[a] * price[a];                        // |.| < 2^126
        // w = weight if x >= 0 else 10000 (x = 0 contributes 0 either way)
        hw[a] <== xs[a].nonNeg * (weight[a] - 10000);
        xpw[a] <== xp[a] * (hw[a] + 10000);               // |.| < 2^140
        pos[a] <== xs[a].nonNeg * x[a];
        neg[a] <== pos[a] - x[a];
        collateral += xpw[a];
    }
    component qs[P];
    component cs[P];
    signal qm[P];
    var pnl = 0;
    for (var i = 0; i < P; i++) {
        qs[i] = SignedInt64();
        qs[i].in <== q[i];
        cs[i] = SignedInt64();
        cs[i].in <== c[i];
        slot[A + 2 * i] <== qs[i].slot;
        slot[A + 2 * i + 1] <== cs[i].slot;
        qm[i] <== q[i] * mark[i];                         // |.| < 2^126
        pnl += qm[i] - c[i] * 100000000;
    }
    equity <== 100 * (collateral + 10000 * pnl);

    // ---- requirement: sum_i MM_i, MM_i = N_i * r_sel - D_sel --------------------------
    signal absq[P];
    signal notional[P];
    signal selRate[P][L];
    signal selDed[P][L];
    signal selLo[P][L];
    signal selHi[P][L];
    signal upperGap[P];
    signal mm[P];
    component lowerOk[P];
    component upperOk[P];
    var req = 0;
    for (var i = 0; i < P; i++) {
        absq[i] <== q[i] * (2 * qs[i].nonNeg - 1);
        notional[i] <== absq[i] * mark[i];                // N < 2^126, USD x 1e16
        var one = 0;
        var r = 0;
        var d = 0;
        var lo = 0;
        var hi = 0;
        for (var k = 0; k < L; k++) {
            sel[i][k] * (sel[i][k] - 1) === 0;            // boolean
            one += sel[i][k];
            selRate[i][k] <== sel[i][k] * rate[i][k];
            selDed[i][k] <== sel[i][k] * ded[i][k];
            r += selRate[i][k];
            d += selDed[i][k];
            if (k >= 1) {
                selLo[i][k] <== sel[i][k] * bound[i][k - 1];
                lo += selLo[i][k];
            } else {
                selLo[i][k] <== 0;
            }
            if (k < L - 1) {
                selHi[i][k] <== sel[i][k] * bound[i][k];
                hi += selHi[i][k];
            } else {
                selHi[i][k] <== 0;
            }
        }
        one === 1;                                        // exactly one bracket
        // lower edge: N - B_(k-1) * 1e8 >= 0, and N < 2^126
        lowerOk[i] = RangeCheck(126);
        lowerOk[i].in <== notional[i] - lo * 100000000;
        // upper edge unless the last bracket: B_k * 1e8 - N - 1 >= 0 (< 2^90)
        upperGap[i] <== (1 - sel[i][L - 1]) * (hi * 100000000 - notional[i] - 1);
        upperOk[i] = RangeCheck(90);
        upperOk[i].in <== upperGap[i];
        mm[i] <== notional[i] * r - d;
        req += mm[i];
    }
    requirement <== req;

    // ---- sufficiency: |E - R| < 2^W -------------------------------------------------
    // E < 100*(A*2^140 + 10000*P*(2^126 + 2^90)) and R < P*2^146, so
    // |E - R| < (A + 2P + 1) * 2^147.
    var W = 148 + bitLength(A + 2 * P + 1);
    component ok = NonNegative(W);
    ok.in <== equity - requirement;
    deficient <== 1 - ok.flag;
    shortfall <== deficient * (requirement - equity);
}
