pragma circom 2.1.6;

include "int.circom";

// AccountMargin(A, P, L, T, O, G, S): the margin model of docs/margin.md for one
// account, exactly.
// Parameters:
//   A: assets, >= 1; P: perps, >= 0; L: brackets per perp, >= 2 (shorter tables are
//   padded, see zkmargin/statement.py `circuit_params`); T: collateral tiers per asset,
//   >= 1 (padded the same way); O: options, >= 0; G: portfolio groups, >= 0 (>= 1 when
//   O > 0); S: scenarios (>= 1 when G > 0).
// Inputs (account, private):
//   x[A]: balances (amount x 1e8), q[P]: perp sizes (contracts x 1e8), c[P]: perp costs
//     (USD x 1e8), o[O]: option sizes (contracts x 1e8), all signed with |v| < 2^63.
//   absq[P], qNonNeg[P]: hints, |q| and 1 iff q >= 0.
//   sel[P][L]: bracket selector hint, one-hot.
//   tierSel[A][T'] (T' = T if T > 1, else 0): collateral tier selector hint, one-hot.
//   scanSel[G][S]: worst-scenario selector hint per group, one-hot.
// Inputs (derived from the risk parameters once per batch by RiskParams):
//   price[A] (USD x 1e8); posWeight[A][T] = price * (w_k - 10000); tierConst[A][T] = C_ak
//   (USD x 1e20); tierThr[A][T-1]: balance thresholds of the tier bounds,
//   min(ceil(T_k * 1e8 / price), 2^63), non-decreasing; mark[P] (USD x 1e8);
//   thr[P][L-1]: |q| thresholds of the bracket bounds, min(ceil(B*1e8 / M), 2^63),
//   non-decreasing; markRate[P][L] = mark * rate; ded[P][L] = D_ik (F); optMark[O]
//   (USD x 1e8); groupRisk[G][P+O][S] = member * L[s] (USD x 1e8, |.| <= 2^63, every perp
//   and option in at most one group); groupShort[G][O] = member * short_min (< 2^63).
// Outputs:
//   equity E, requirement R (F = USD x 1e22, signed), deficient (1 iff E < R),
//   shortfall = max(0, R - E), pos[A] = max(x, 0), neg[A] = max(-x, 0),
//   slot[A + 2P + O] = v + 2^63 for the leaf, in leaf order [x..., q_1, c_1, ..., o...].
// Enforces: |x|, |c|, |o| < 2^63 (SignedInt64); q = +-absq with qNonNeg boolean, and the
//   selected bracket's thresholds around absq: thr_(k-1) <= absq < thr_k (63-bit range
//   checks; thr_(-1) = 0, the last bracket's upper threshold is 2^63), which bounds absq
//   to [0, 2^63) and so |q| < 2^63; for an integer |q| the threshold test is the bracket
//   test B_(k-1)*1e8 <= |q|*M < B_k*1e8 exactly; MM_i = |q_i| * M_i * r_ik - D_ik, which
//   equals max_k (N r_k - D_k) since the rates never decrease and D is continuous.
//   Tiers the same way: the selected tier's thresholds around pos = max(x, 0), so
//   T_(k-1)*1e8 <= pos * price < T_k*1e8, and CV = w_k * V + C_k, which equals
//   min_k (w_k V + C_k) since the weights never increase and C is continuous (x <= 0
//   selects tier 0, C_0 = 0: a debt counts at full value).
//   Groups: line_gs = sum of size * groupRisk over the members; scan_g = sum_s scanSel *
//   line_gs with scanSel boolean, one-hot and scan_g - line_gs in [0, 2^(127+b)) for every
//   s (b = bitLength(P + O); |line| <= (P + O) * 2^126), so scan_g = max_s line_gs;
//   short_g = sum max(-o, 0) * groupShort >= 0; PM_g = 1e6 * max(scan_g, short_g) (=
//   max(scan, short, 0) as short >= 0), its sign by NonNegative.
// NOTE: the caller derives every per-batch input above from range-checked parameters
//   bound to the params hash (Batch: RiskParams).
template AccountMargin(A, P, L, T, O, G, S) {
    assert(A >= 1 && P >= 0 && L >= 2 && T >= 1 && O >= 0 && G >= 0 && S >= 0);
    assert(O == 0 || G >= 1);
    assert(G == 0 || S >= 1);
    var TS = T > 1 ? T : 0;
    signal input x[A];
    signal input q[P];
    signal input c[P];
    signal input o[O];
    signal input absq[P];
    signal input qNonNeg[P];
    signal input sel[P][L];
    signal input tierSel[A][TS];
    signal input scanSel[G][S];
    signal input price[A];
    signal input posWeight[A][T];
    signal input tierConst[A][T];
    signal input tierThr[A][T - 1];
    signal input mark[P];
    signal input thr[P][L - 1];
    signal input markRate[P][L];
    signal input ded[P][L];
    signal input optMark[O];
    signal input groupRisk[G][P + O][S];
    signal input groupShort[G][O];

    signal output equity;
    signal output requirement;
    signal output deficient;
    signal output shortfall;
    signal output pos[A];
    signal output neg[A];
    signal output slot[A + 2 * P + O];

    // ---- collateral: sum x*P*10000 + max(x, 0)*P*(w_k - 10000) + C_k ------------------
    // the tier weight applies to positive balances only (debts count in full)
    component xs[A];
    signal xp[A];
    signal posw[A];
    signal tierLo[A][TS];
    signal tierHi[A][TS];
    signal tierPw[A][TS];
    signal tierC[A][TS];
    component tierLoOk[T > 1 ? A : 0];
    component tierHiOk[T > 1 ? A : 0];
    var collateral = 0;
    for (var a = 0; a < A; a++) {
        xs[a] = SignedInt64();
        xs[a].in <== x[a];
        slot[a] <== xs[a].slot;
        xp[a] <== x[a] * price[a];                        // |.| < 2^126
        pos[a] <== xs[a].nonNeg * x[a];
        neg[a] <== pos[a] - x[a];
        if (T == 1) {
            posw[a] <== pos[a] * posWeight[a][0];         // |.| < 2^140
            collateral += 10000 * xp[a] + posw[a];
        } else {
            var one = 0;
            var lo = 0;
            var hi = 0;
            var pw = 0;
            var cst = 0;
            for (var k = 0; k < T; k++) {
                tierSel[a][k] * (tierSel[a][k] - 1) === 0;
                one += tierSel[a][k];
                if (k >= 1) {
                    tierLo[a][k] <== tierSel[a][k] * tierThr[a][k - 1];
                } else {
                    tierLo[a][k] <== 0;
                }
                if (k < T - 1) {
                    tierHi[a][k] <== tierSel[a][k] * tierThr[a][k];
                } else {
                    tierHi[a][k] <== tierSel[a][k] * 2 ** 63;  // the last tier is unbounded
                }
                tierPw[a][k] <== tierSel[a][k] * posWeight[a][k];
                tierC[a][k] <== tierSel[a][k] * tierConst[a][k];
                lo += tierLo[a][k];
                hi += tierHi[a][k];
                pw += tierPw[a][k];
                cst += tierC[a][k];
            }
            one === 1;                                    // exactly one tier
            // thr_(k-1) <= pos < thr_k: both gaps in [0, 2^63), thresholds in [0, 2^63]
            tierLoOk[a] = RangeCheck(63);
            tierLoOk[a].in <== pos[a] - lo;
            tierHiOk[a] = RangeCheck(63);
            tierHiOk[a].in <== hi - 1 - pos[a];
            posw[a] <== pos[a] * pw;                      // |.| < 2^140
            collateral += 10000 * xp[a] + posw[a] + cst;  // C_k < 2^113
        }
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
    component os[O];
    signal om[O];
    signal oNeg[O];
    var optionValue = 0;
    for (var j = 0; j < O; j++) {
        os[j] = SignedInt64();
        os[j].in <== o[j];
        slot[A + 2 * P + j] <== os[j].slot;
        om[j] <== o[j] * optMark[j];                      // |.| < 2^126
        oNeg[j] <== (os[j].nonNeg - 1) * o[j];            // max(-o, 0)
        optionValue += om[j];
    }
    equity <== 100 * (collateral + 10000 * pnl) + 1000000 * optionValue;

    // ---- bracket perps: MM_i = |q_i| * (M_i r_sel) - D_sel ----------------------------
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

    // ---- portfolio groups: PM_g = 1e6 * max(max_s line_gs, short_g) -------------------
    var WL = 127 + bitLength(P + O);                      // scan - line in [0, 2^WL)
    var WP = 126 + bitLength(P + 2 * O);                  // |scan - short| < 2^WP
    signal term[G][S][P + O];
    signal line[G][S];
    signal pick[G][S];
    signal scan[G];
    signal shortTerm[G][O];
    signal shortSum[G];
    signal pm[G];
    component lineOk[G][S];
    component scanWins[G];
    for (var g = 0; g < G; g++) {
        var one = 0;
        var m = 0;
        for (var s = 0; s < S; s++) {
            var l = 0;
            for (var i = 0; i < P; i++) {
                term[g][s][i] <== q[i] * groupRisk[g][i][s];
                l += term[g][s][i];
            }
            for (var j = 0; j < O; j++) {
                term[g][s][P + j] <== o[j] * groupRisk[g][P + j][s];
                l += term[g][s][P + j];
            }
            line[g][s] <== l;                             // |.| <= (P + O) * 2^126
            scanSel[g][s] * (scanSel[g][s] - 1) === 0;
            one += scanSel[g][s];
            pick[g][s] <== scanSel[g][s] * line[g][s];
            m += pick[g][s];
        }
        one === 1;                                        // exactly one scenario
        scan[g] <== m;
        for (var s = 0; s < S; s++) {
            lineOk[g][s] = RangeCheck(WL);                // the picked line is the worst
            lineOk[g][s].in <== scan[g] - line[g][s];
        }
        var sh = 0;
        for (var j = 0; j < O; j++) {
            shortTerm[g][j] <== oNeg[j] * groupShort[g][j];
            sh += shortTerm[g][j];
        }
        shortSum[g] <== sh;                                  // in [0, O * 2^126)
        scanWins[g] = NonNegative(WP);
        scanWins[g].in <== scan[g] - shortSum[g];
        pm[g] <== shortSum[g] + scanWins[g].flag * (scan[g] - shortSum[g]);
        req += 1000000 * pm[g];                           // 0 <= 1e6 * PM_g
    }
    requirement <== req;

    // ---- sufficiency: |E - R| < 2^W -------------------------------------------------
    // 100 * |coll_a|, 1e6 * |pnl_i|, 1e6 * |o_j| * mark_j, MM_i < 2^146 each (1e6 * 2^126
    // < 2^145.94, the tier constants add < 2^120); sum_g PM_g < 1e6 * (P + O) * 2^126 as
    // every member is in at most one group: |E - R| < (A + 2P + O + [G > 0] (P + O)) *
    // 2^146 <= 2^W.
    var W = 146 + bitLength(A + 2 * P + O + (G > 0 ? P + O : 0));
    component ok = NonNegative(W);
    ok.in <== equity - requirement;
    deficient <== 1 - ok.flag;
    shortfall <== deficient * (requirement - equity);
}
