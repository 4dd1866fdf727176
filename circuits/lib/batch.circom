pragma circom 2.1.6;

include "margin.circom";
include "leaf.circom";
include "merkle.circom";
include "params.circom";

// Batch(A, P, L, T, O, G, S, DEPTH): one batch proof: K = 2^DEPTH accounts, their
// subtree root and their totals under the committed risk parameters, bound into ONE public
// output.
// Parameters:
//   A: assets, >= 1; P: perps, >= 0; L: brackets per perp, >= 2; T: collateral tiers per
//   asset, >= 1; O: options, >= 0; G: portfolio groups (>= 1 when O > 0); S: scenarios
//   (>= 1 when G > 0); DEPTH: 0..24.
// Inputs (all private):
//   batchIndex; per account idHash, x[A], q[P], c[P], o[O], the hints absq[P], qNonNeg[P],
//   sel[P][L] (|q|, its sign, its bracket), tierSel[A][T] (its collateral tiers; only when
//   T > 1), scanSel[G][S] (its worst scenario per group), isReal (0 = padding); the risk
//   parameters of RiskParams and their hints thrCeil, thrClamp, tierCeil, tierClamp.
// Outputs:
//   commitment = FoldHash([batchIndex, root, paramsHash, accounts, deficient, equity,
//     requirement, shortfall, liabilities[A], debts[A]]) (signed totals as field
//     elements, negative = p - |v|): the one public signal.
// Enforces: every account's margin (AccountMargin), its leaf (AccountLeaf), the subtree
//   root, the parameter checks and hash (RiskParams); a padding account's leaf is the
//   padding leaf (id hash 0, every value 0), so it counts in no total; a real account has
//   idHash != 0, so it can never be the padding leaf,
//   and isReal never increases along the batch (padding only after the last real
//   account): the account count cannot be inflated. Deficient accounts do not fail the
//   proof: they are counted.
// NOTE: batchIndex is whatever the prover states: the auditor checks the indices 0..B-1
//   against the published batch files.
// NOTE: paramsHash is only committed: the auditor compares it with the hash of the
//   published params.json.
// NOTE: idHash is whatever the prover states: each account holder checks its own leaf
//   through its inclusion proof.
template Batch(A, P, L, T, O, G, S, DEPTH) {
    assert(A >= 1 && P >= 0 && L >= 2 && T >= 1 && O >= 0 && G >= 0 && S >= 0);
    assert(O == 0 || G >= 1);
    assert(G == 0 || S >= 1);
    assert(DEPTH >= 0 && DEPTH <= 24);
    var K = 2 ** DEPTH;
    var TS = T > 1 ? T : 0;
    var SLOTS = A + 2 * P + O;
    signal input batchIndex;
    signal input idHash[K];
    signal input x[K][A];
    signal input q[K][P];
    signal input c[K][P];
    signal input o[K][O];
    signal input absq[K][P];
    signal input qNonNeg[K][P];
    signal input sel[K][P][L];
    signal input tierSel[K][A][TS];
    signal input scanSel[K][G][S];
    signal input isReal[K];
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
    signal output commitment;

    // element-wise wiring (not whole-array `<==`) keeps the static analyser able to read it
    component params = RiskParams(A, P, L, T, O, G, S);
    for (var a = 0; a < A; a++) {
        params.assetSym[a] <== assetSym[a];
        params.price[a] <== price[a];
        for (var k = 0; k < T; k++) {
            params.tierWeight[a][k] <== tierWeight[a][k];
        }
        for (var k = 0; k < T - 1; k++) {
            params.tierBound[a][k] <== tierBound[a][k];
            params.tierCeil[a][k] <== tierCeil[a][k];
            params.tierClamp[a][k] <== tierClamp[a][k];
        }
    }
    for (var i = 0; i < P; i++) {
        params.perpSym[i] <== perpSym[i];
        params.mark[i] <== mark[i];
        for (var k = 0; k < L - 1; k++) {
            params.bound[i][k] <== bound[i][k];
            params.thrCeil[i][k] <== thrCeil[i][k];
            params.thrClamp[i][k] <== thrClamp[i][k];
        }
        for (var k = 0; k < L; k++) {
            params.rate[i][k] <== rate[i][k];
        }
        for (var g = 0; g < G; g++) {
            params.perpGroup[i][g] <== perpGroup[i][g];
        }
        for (var s = 0; s < S; s++) {
            params.perpRisk[i][s] <== perpRisk[i][s];
        }
    }
    for (var j = 0; j < O; j++) {
        params.optSym[j] <== optSym[j];
        params.optMark[j] <== optMark[j];
        params.optShortMin[j] <== optShortMin[j];
        for (var g = 0; g < G; g++) {
            params.optGroup[j][g] <== optGroup[j][g];
        }
        for (var s = 0; s < S; s++) {
            params.optRisk[j][s] <== optRisk[j][s];
        }
    }
    for (var g = 0; g < G; g++) {
        params.groupSym[g] <== groupSym[g];
    }
    for (var s = 0; s < S; s++) {
        params.scenarioName[s] <== scenarioName[s];
    }

    // the leaf of the padding account (id hash 0, every value 0), once per batch
    component padLeaf = AccountLeaf(SLOTS);
    padLeaf.idHash <== 0;
    for (var s = 0; s < SLOTS; s++) {
        padLeaf.slot[s] <== 2 ** 63;
    }

    component acct[K];
    component leaf[K];
    component tree = SubtreeRoot(DEPTH);
    signal idInv[K];
    signal idUnit[K];
    var accounts = 0;
    var deficient = 0;
    var equity = 0;
    var requirement = 0;
    var shortfall = 0;
    var liabilities[A];
    var debts[A];
    for (var a = 0; a < A; a++) {
        liabilities[a] = 0;
        debts[a] = 0;
    }
    for (var n = 0; n < K; n++) {
        isReal[n] * (isReal[n] - 1) === 0;
        if (n > 0) {
            isReal[n] * (1 - isReal[n - 1]) === 0;   // real accounts come first
        }
        // a real account's id hash is not 0, so it can never pose as the padding account:
        // idHash * idInv = 1 wherever isReal = 1 (idInv a hint)
        idInv[n] <-- idHash[n] != 0 ? 1 / idHash[n] : 0;
        idUnit[n] <== idHash[n] * idInv[n];
        isReal[n] * (idUnit[n] - 1) === 0;
        acct[n] = AccountMargin(A, P, L, T, O, G, S);
        for (var a = 0; a < A; a++) {
            acct[n].x[a] <== x[n][a];
            acct[n].price[a] <== price[a];
            for (var k = 0; k < T; k++) {
                acct[n].posWeight[a][k] <== params.posWeight[a][k];
                acct[n].tierConst[a][k] <== params.tierConst[a][k];
            }
            for (var k = 0; k < T - 1; k++) {
                acct[n].tierThr[a][k] <== params.tierThr[a][k];
            }
            for (var k = 0; k < TS; k++) {
                acct[n].tierSel[a][k] <== tierSel[n][a][k];
            }
        }
        for (var i = 0; i < P; i++) {
            acct[n].q[i] <== q[n][i];
            acct[n].c[i] <== c[n][i];
            acct[n].absq[i] <== absq[n][i];
            acct[n].qNonNeg[i] <== qNonNeg[n][i];
            acct[n].mark[i] <== mark[i];
            for (var k = 0; k < L; k++) {
                acct[n].sel[i][k] <== sel[n][i][k];
                acct[n].markRate[i][k] <== params.markRate[i][k];
                acct[n].ded[i][k] <== params.ded[i][k];
            }
            for (var k = 0; k < L - 1; k++) {
                acct[n].thr[i][k] <== params.thr[i][k];
            }
        }
        for (var j = 0; j < O; j++) {
            acct[n].o[j] <== o[n][j];
            acct[n].optMark[j] <== optMark[j];
        }
        for (var g = 0; g < G; g++) {
            for (var s = 0; s < S; s++) {
                acct[n].scanSel[g][s] <== scanSel[n][g][s];
                for (var m = 0; m < P + O; m++) {
                    acct[n].groupRisk[g][m][s] <== params.groupRisk[g][m][s];
                }
            }
            for (var j = 0; j < O; j++) {
                acct[n].groupShort[g][j] <== params.groupShort[g][j];
            }
        }

        leaf[n] = AccountLeaf(SLOTS);
        leaf[n].idHash <== idHash[n];
        for (var s = 0; s < SLOTS; s++) {
            leaf[n].slot[s] <== acct[n].slot[s];
        }
        // a padding account is the zero account: its leaf is the padding leaf, so (the hash
        // binding them) its id hash and every value are 0 and it adds 0 to every total
        (1 - isReal[n]) * (leaf[n].leaf - padLeaf.leaf) === 0;
        tree.leaves[n] <== leaf[n].leaf;

        accounts += isReal[n];
        deficient += acct[n].deficient;
        equity += acct[n].equity;
        requirement += acct[n].requirement;
        shortfall += acct[n].shortfall;
        for (var a = 0; a < A; a++) {
            liabilities[a] += acct[n].pos[a];
            debts[a] += acct[n].neg[a];
        }
    }

    component commit = FoldHash(8 + 2 * A, 12);
    commit.in[0] <== batchIndex;
    commit.in[1] <== tree.root;
    commit.in[2] <== params.hash;
    commit.in[3] <== accounts;
    commit.in[4] <== deficient;
    commit.in[5] <== equity;
    commit.in[6] <== requirement;
    commit.in[7] <== shortfall;
    for (var a = 0; a < A; a++) {
        commit.in[8 + a] <== liabilities[a];
        commit.in[8 + A + a] <== debts[a];
    }
    commitment <== commit.out;
}
