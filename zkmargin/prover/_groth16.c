/*
 * A Groth16 prover for snarkjs proving keys over BN254, in C: the "builtin" backend of
 * zkmargin.prover.backends. It computes what `snarkjs groth16 prove` computes, step for
 * step (snarkjs's groth16_prove: buildABC, the three IFFT / coset FFT pairs, joinABC, the
 * five multi-exponentiations and the blinding by r and s), single-threaded: a proving run
 * spreads batches over processes, one batch per core.
 *
 * prove(header, coefs, a, b1, b2, c, h, witness, fft, rs) -> bytes
 *
 *   header   zkey section 2 (n8q q n8r r nVars nPublic domainSize alpha1 beta1 beta2
 *            gamma2 delta1 delta2)
 *   coefs    zkey section 4: u32 count, then (u32 matrix, u32 row, u32 signal, c R^2 mod r)
 *   a b1 c h zkey sections 5 6 8 9: affine G1 points, coordinates in Montgomery form
 *   b2       zkey section 7: affine G2 points
 *   witness  wtns section 2: nVars field elements in standard form
 *   fft      4 field elements, standard form: omega (a primitive domainSize-th root of
 *            unity, ffjavascript's w[log2 domainSize]), omega^-1, domainSize^-1, and the
 *            coset shift (a primitive 2 domainSize-th root, w[log2 domainSize + 1])
 *   rs       the blinding scalars r and s, standard form, each < r (drawn by the caller)
 *   returns  256 bytes: pi_a.x pi_a.y pi_b.x.c0 pi_b.x.c1 pi_b.y.c0 pi_b.y.c1 pi_c.x pi_c.y,
 *            each 32 bytes little-endian, standard form (affine)
 *
 * Every field element read is checked to be below its modulus (a ValueError otherwise, never
 * reduced), every coefficient's row and signal to be inside the key, and every section's
 * length to match the header. The prover trusts nothing for soundness: a wrong result is a
 * proof the verifier refuses. Its secrecy rests on r and s being fresh and uniform.
 *
 * Field arithmetic: 4 limbs of 64 bits, Montgomery form with R = 2^256, CIOS multiplication
 * without the extra carry words (valid because the top limbs of q and r are below
 * 2^63 - 1), with MULX/ADCX/ADOX where the CPU has them (else portable C); additions and
 * subtractions on the carry flag, without data-dependent branches. Curve arithmetic:
 * Jacobian coordinates for y^2 = x^3 + b (a = 0), the explicit formulas dbl-2009-l,
 * madd-2007-bl and add-2007-bl of the Explicit-Formulas Database, with their exceptional
 * cases (equal or opposite points, infinity) handled. Multi-exponentiation: Pippenger's
 * bucket method with signed digits; the buckets are affine and filled by batches of affine
 * additions sharing one inversion (an addition to a bucket already in the batch waits for
 * the next batch). The code's timing depends on the witness (bucket indices, exceptional
 * cases) and on the blinding scalars r and s (double-and-add): run it where the witness
 * already is, the exchange's own machines.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if !defined(__SIZEOF_INT128__) || !defined(__BYTE_ORDER__) || \
    __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "zkmargin's C prover needs unsigned __int128 and a little-endian machine"
#endif

typedef uint64_t u64;
typedef unsigned __int128 u128;
typedef struct { u64 v[4]; } fe;
typedef struct { fe c0, c1; } fe2;

#define ALWAYS static inline __attribute__((always_inline))

/* The base field q (curve coordinates) with -q^-1 mod 2^64; the scalar field r with
 * -r^-1 mod 2^64 and R^2 mod r. */
static const u64 QM[4] = {0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL,
                          0xb85045b68181585dULL, 0x30644e72e131a029ULL};
static const u64 QN = 0x87d20782e4866389ULL;
static const u64 RM[4] = {0x43e1f593f0000001ULL, 0x2833e84879b97091ULL,
                          0xb85045b68181585dULL, 0x30644e72e131a029ULL};
static const u64 RN = 0xc2e1f593efffffffULL;
static const fe RR2 = {{0x1bb8e645ae216da7ULL, 0x53fe3ab1e35c59e3ULL,
                        0x8c49833d53bb8085ULL, 0x0216d0b17f4e44a5ULL}};
static const fe ONE_STD = {{1, 0, 0, 0}};

ALWAYS int geq(const u64 *a, const u64 *m) {
    for (int i = 3; i >= 0; i--) {
        if (a[i] != m[i]) return a[i] > m[i];
    }
    return 1;
}

#if defined(__x86_64__)
#include <x86intrin.h>
/* carry and borrow chains on the flags (adc, sbb) */
#define ADDC(c, x, y, out) _addcarry_u64((c), (x), (y), (unsigned long long *)(out))
#define SUBB(c, x, y, out) _subborrow_u64((c), (x), (y), (unsigned long long *)(out))
#else
static inline unsigned char ADDC(unsigned char c, u64 x, u64 y, u64 *out) {
    u128 s = (u128)x + y + c;
    *out = (u64)s;
    return (unsigned char)(s >> 64);
}
static inline unsigned char SUBB(unsigned char c, u64 x, u64 y, u64 *out) {
    u128 d = (u128)x - y - c;
    *out = (u64)d;
    return (unsigned char)((d >> 64) & 1);
}
#endif

/* r = t < m ? t : t - m, without a data-dependent branch (t < 2m): the branch would be
 * mispredicted about half the time on random field elements. */
ALWAYS void reduce_once(fe *r, const u64 *t, const u64 *m) {
    u64 d[4];
    unsigned char borrow = SUBB(0, t[0], m[0], &d[0]);
    borrow = SUBB(borrow, t[1], m[1], &d[1]);
    borrow = SUBB(borrow, t[2], m[2], &d[2]);
    borrow = SUBB(borrow, t[3], m[3], &d[3]);
    u64 keep = (u64)0 - borrow; /* all ones when t < m */
    for (int i = 0; i < 4; i++) r->v[i] = (t[i] & keep) | (d[i] & ~keep);
}

ALWAYS void m_add(fe *r, const fe *a, const fe *b, const u64 *m) {
    u64 t[4];
    unsigned char c = ADDC(0, a->v[0], b->v[0], &t[0]);
    c = ADDC(c, a->v[1], b->v[1], &t[1]);
    c = ADDC(c, a->v[2], b->v[2], &t[2]);
    ADDC(c, a->v[3], b->v[3], &t[3]); /* a, b < m < 2^254: no carry out of 256 bits */
    reduce_once(r, t, m);
}

ALWAYS void m_sub(fe *r, const fe *a, const fe *b, const u64 *m) {
    u64 t[4];
    unsigned char borrow = SUBB(0, a->v[0], b->v[0], &t[0]);
    borrow = SUBB(borrow, a->v[1], b->v[1], &t[1]);
    borrow = SUBB(borrow, a->v[2], b->v[2], &t[2]);
    borrow = SUBB(borrow, a->v[3], b->v[3], &t[3]);
    u64 mask = (u64)0 - borrow; /* add m back when a < b */
    unsigned char c = ADDC(0, t[0], m[0] & mask, &r->v[0]);
    c = ADDC(c, t[1], m[1] & mask, &r->v[1]);
    c = ADDC(c, t[2], m[2] & mask, &r->v[2]);
    ADDC(c, t[3], m[3] & mask, &r->v[3]);
}

ALWAYS void m_mul_c(fe *r, const fe *a, const fe *b, const u64 *m, u64 n) {
    u64 t[4] = {0, 0, 0, 0};
    for (int i = 0; i < 4; i++) {
        u64 bi = b->v[i];
        u128 s = (u128)a->v[0] * bi + t[0];
        u64 A = (u64)(s >> 64);
        u64 k = (u64)s * n;
        u128 c = (u128)k * m[0] + (u64)s;
        u64 C = (u64)(c >> 64);
        for (int j = 1; j < 4; j++) {
            s = (u128)a->v[j] * bi + t[j] + A;
            A = (u64)(s >> 64);
            c = (u128)k * m[j] + (u64)s + C;
            C = (u64)(c >> 64);
            t[j - 1] = (u64)c;
        }
        t[3] = C + A;
    }
    reduce_once(r, t, m);
}

#if defined(__x86_64__)
#include <cpuid.h>
/* The same CIOS multiplication with MULX, ADCX and ADOX (BMI2 and ADX, Intel Broadwell and
 * AMD Zen on): two independent carry chains, one for the low and one for the high words of
 * the products, and no flags clobbered by the multiplications. Generated (4 rounds, the
 * registers of t0..t4 rotating one place per round); tested against the portable version
 * on the same inputs (tests/test_builtin_prover.py runs every test on both). */
static int use_adx = 0;
static const u64 ZERO64 = 0;

ALWAYS void m_mul_adx(fe *r, const fe *a, const fe *b, const u64 *m, u64 n) {
    u64 t0, t1, t2, t3, t4, lo, hA, hB;
    __asm__(
        "movq 0(%[b]), %%rdx\n\t"
        "xorl %k[lo], %k[lo]\n\t"
        "mulxq 0(%[a]), %[t0], %[hA]\n\t"
        "mulxq 8(%[a]), %[t1], %[hB]\n\t"
        "adcxq %[hA], %[t1]\n\t"
        "mulxq 16(%[a]), %[t2], %[hA]\n\t"
        "adcxq %[hB], %[t2]\n\t"
        "mulxq 24(%[a]), %[t3], %[t4]\n\t"
        "adcxq %[hA], %[t3]\n\t"
        "adcxq %[zero], %[t4]\n\t"
        "movq %[t0], %%rdx\n\t"
        "imulq %[n], %%rdx\n\t"
        "xorl %k[lo], %k[lo]\n\t"
        "mulxq 0(%[q]), %[lo], %[hA]\n\t"
        "adcxq %[t0], %[lo]\n\t"
        "mulxq 8(%[q]), %[lo], %[hB]\n\t"
        "adcxq %[lo], %[t1]\n\t"
        "adoxq %[hA], %[t1]\n\t"
        "mulxq 16(%[q]), %[lo], %[hA]\n\t"
        "adcxq %[lo], %[t2]\n\t"
        "adoxq %[hB], %[t2]\n\t"
        "mulxq 24(%[q]), %[lo], %[hB]\n\t"
        "adcxq %[lo], %[t3]\n\t"
        "adoxq %[hA], %[t3]\n\t"
        "adcxq %[hB], %[t4]\n\t"
        "adoxq %[zero], %[t4]\n\t"
        "movq 8(%[b]), %%rdx\n\t"
        "xorl %k[lo], %k[lo]\n\t"
        "mulxq 0(%[a]), %[lo], %[hA]\n\t"
        "adcxq %[lo], %[t1]\n\t"
        "mulxq 8(%[a]), %[lo], %[hB]\n\t"
        "adcxq %[lo], %[t2]\n\t"
        "adoxq %[hA], %[t2]\n\t"
        "mulxq 16(%[a]), %[lo], %[hA]\n\t"
        "adcxq %[lo], %[t3]\n\t"
        "adoxq %[hB], %[t3]\n\t"
        "mulxq 24(%[a]), %[lo], %[t0]\n\t"
        "adcxq %[lo], %[t4]\n\t"
        "adoxq %[hA], %[t4]\n\t"
        "adcxq %[zero], %[t0]\n\t"
        "adoxq %[zero], %[t0]\n\t"
        "movq %[t1], %%rdx\n\t"
        "imulq %[n], %%rdx\n\t"
        "xorl %k[lo], %k[lo]\n\t"
        "mulxq 0(%[q]), %[lo], %[hA]\n\t"
        "adcxq %[t1], %[lo]\n\t"
        "mulxq 8(%[q]), %[lo], %[hB]\n\t"
        "adcxq %[lo], %[t2]\n\t"
        "adoxq %[hA], %[t2]\n\t"
        "mulxq 16(%[q]), %[lo], %[hA]\n\t"
        "adcxq %[lo], %[t3]\n\t"
        "adoxq %[hB], %[t3]\n\t"
        "mulxq 24(%[q]), %[lo], %[hB]\n\t"
        "adcxq %[lo], %[t4]\n\t"
        "adoxq %[hA], %[t4]\n\t"
        "adcxq %[hB], %[t0]\n\t"
        "adoxq %[zero], %[t0]\n\t"
        "movq 16(%[b]), %%rdx\n\t"
        "xorl %k[lo], %k[lo]\n\t"
        "mulxq 0(%[a]), %[lo], %[hA]\n\t"
        "adcxq %[lo], %[t2]\n\t"
        "mulxq 8(%[a]), %[lo], %[hB]\n\t"
        "adcxq %[lo], %[t3]\n\t"
        "adoxq %[hA], %[t3]\n\t"
        "mulxq 16(%[a]), %[lo], %[hA]\n\t"
        "adcxq %[lo], %[t4]\n\t"
        "adoxq %[hB], %[t4]\n\t"
        "mulxq 24(%[a]), %[lo], %[t1]\n\t"
        "adcxq %[lo], %[t0]\n\t"
        "adoxq %[hA], %[t0]\n\t"
        "adcxq %[zero], %[t1]\n\t"
        "adoxq %[zero], %[t1]\n\t"
        "movq %[t2], %%rdx\n\t"
        "imulq %[n], %%rdx\n\t"
        "xorl %k[lo], %k[lo]\n\t"
        "mulxq 0(%[q]), %[lo], %[hA]\n\t"
        "adcxq %[t2], %[lo]\n\t"
        "mulxq 8(%[q]), %[lo], %[hB]\n\t"
        "adcxq %[lo], %[t3]\n\t"
        "adoxq %[hA], %[t3]\n\t"
        "mulxq 16(%[q]), %[lo], %[hA]\n\t"
        "adcxq %[lo], %[t4]\n\t"
        "adoxq %[hB], %[t4]\n\t"
        "mulxq 24(%[q]), %[lo], %[hB]\n\t"
        "adcxq %[lo], %[t0]\n\t"
        "adoxq %[hA], %[t0]\n\t"
        "adcxq %[hB], %[t1]\n\t"
        "adoxq %[zero], %[t1]\n\t"
        "movq 24(%[b]), %%rdx\n\t"
        "xorl %k[lo], %k[lo]\n\t"
        "mulxq 0(%[a]), %[lo], %[hA]\n\t"
        "adcxq %[lo], %[t3]\n\t"
        "mulxq 8(%[a]), %[lo], %[hB]\n\t"
        "adcxq %[lo], %[t4]\n\t"
        "adoxq %[hA], %[t4]\n\t"
        "mulxq 16(%[a]), %[lo], %[hA]\n\t"
        "adcxq %[lo], %[t0]\n\t"
        "adoxq %[hB], %[t0]\n\t"
        "mulxq 24(%[a]), %[lo], %[t2]\n\t"
        "adcxq %[lo], %[t1]\n\t"
        "adoxq %[hA], %[t1]\n\t"
        "adcxq %[zero], %[t2]\n\t"
        "adoxq %[zero], %[t2]\n\t"
        "movq %[t3], %%rdx\n\t"
        "imulq %[n], %%rdx\n\t"
        "xorl %k[lo], %k[lo]\n\t"
        "mulxq 0(%[q]), %[lo], %[hA]\n\t"
        "adcxq %[t3], %[lo]\n\t"
        "mulxq 8(%[q]), %[lo], %[hB]\n\t"
        "adcxq %[lo], %[t4]\n\t"
        "adoxq %[hA], %[t4]\n\t"
        "mulxq 16(%[q]), %[lo], %[hA]\n\t"
        "adcxq %[lo], %[t0]\n\t"
        "adoxq %[hB], %[t0]\n\t"
        "mulxq 24(%[q]), %[lo], %[hB]\n\t"
        "adcxq %[lo], %[t1]\n\t"
        "adoxq %[hA], %[t1]\n\t"
        "adcxq %[hB], %[t2]\n\t"
        "adoxq %[zero], %[t2]\n\t"
        : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),
          [lo] "=&r"(lo), [hA] "=&r"(hA), [hB] "=&r"(hB)
        : [a] "r"(a->v), [b] "r"(b->v), [q] "r"(m), [n] "rm"(n), [zero] "m"(ZERO64),
          "m"(*(const u64(*)[4])a->v), "m"(*(const u64(*)[4])b->v), "m"(*(const u64(*)[4])m)
        : "rdx", "cc");
    u64 t[4] = {t4, t0, t1, t2};
    reduce_once(r, t, m);
}

static int cpu_has_adx(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return ((b >> 8) & 1) && ((b >> 19) & 1); /* BMI2 (MULX) and ADX */
}
#else
static int use_adx = 0;
static int cpu_has_adx(void) { return 0; }
#endif

/* r = a b / R mod m: the ADX version where the CPU has it (checked once at import), else
 * the portable one. The branch is the same every time, so it is predicted. */
ALWAYS void m_mul(fe *r, const fe *a, const fe *b, const u64 *m, u64 n) {
#if defined(__x86_64__)
    if (use_adx) {
        m_mul_adx(r, a, b, m, n);
        return;
    }
#endif
    m_mul_c(r, a, b, m, n);
}

ALWAYS int fe_zero(const fe *a) { return !(a->v[0] | a->v[1] | a->v[2] | a->v[3]); }

/* Base field Fq */
ALWAYS void fq_add(fe *r, const fe *a, const fe *b) { m_add(r, a, b, QM); }
ALWAYS void fq_sub(fe *r, const fe *a, const fe *b) { m_sub(r, a, b, QM); }
ALWAYS void fq_mul(fe *r, const fe *a, const fe *b) { m_mul(r, a, b, QM, QN); }
ALWAYS void fq_sqr(fe *r, const fe *a) { m_mul(r, a, a, QM, QN); }
ALWAYS int fq_zero(const fe *a) { return fe_zero(a); }

/* Scalar field Fr */
ALWAYS void fr_add(fe *r, const fe *a, const fe *b) { m_add(r, a, b, RM); }
ALWAYS void fr_sub(fe *r, const fe *a, const fe *b) { m_sub(r, a, b, RM); }
ALWAYS void fr_mul(fe *r, const fe *a, const fe *b) { m_mul(r, a, b, RM, RN); }

/* Fq2 = Fq[u] / (u^2 + 1) */
ALWAYS void fq2_add(fe2 *r, const fe2 *a, const fe2 *b) {
    fq_add(&r->c0, &a->c0, &b->c0);
    fq_add(&r->c1, &a->c1, &b->c1);
}
ALWAYS void fq2_sub(fe2 *r, const fe2 *a, const fe2 *b) {
    fq_sub(&r->c0, &a->c0, &b->c0);
    fq_sub(&r->c1, &a->c1, &b->c1);
}
ALWAYS void fq2_mul(fe2 *r, const fe2 *a, const fe2 *b) {
    fe v0, v1, s, t;
    fq_mul(&v0, &a->c0, &b->c0);
    fq_mul(&v1, &a->c1, &b->c1);
    fq_add(&s, &a->c0, &a->c1);
    fq_add(&t, &b->c0, &b->c1);
    fq_mul(&s, &s, &t);
    fq_sub(&s, &s, &v0);
    fq_sub(&r->c1, &s, &v1);
    fq_sub(&r->c0, &v0, &v1);
}
ALWAYS void fq2_sqr(fe2 *r, const fe2 *a) {
    fe s, d, p;
    fq_add(&s, &a->c0, &a->c1);
    fq_sub(&d, &a->c0, &a->c1);
    fq_mul(&p, &a->c0, &a->c1);
    fq_mul(&r->c0, &s, &d);
    fq_add(&r->c1, &p, &p);
}
ALWAYS int fq2_zero(const fe2 *a) { return fe_zero(&a->c0) && fe_zero(&a->c1); }


/* 1 in Montgomery form (R mod q) */
static const fe Q_ONE = {{0xd35d438dc58f0d9dULL, 0x0a78eb28f5c70b3dULL,
                          0x666ea36f7879462cULL, 0x0e0a77c19a07df2fULL}};
ALWAYS void fq_one(fe *r) { *r = Q_ONE; }
ALWAYS void fq2_one(fe2 *r) {
    r->c0 = Q_ONE;
    memset(&r->c1, 0, sizeof(fe));
}
static const fe ZERO_FE = {{0, 0, 0, 0}};
static const fe2 ZERO_FE2 = {{{0, 0, 0, 0}}, {{0, 0, 0, 0}}};

/* a^e mod q for e given as 4 limbs (Montgomery in and out) */
static void fq_pow(fe *out, const fe *a, const u64 *e) {
    fe acc = Q_ONE;
    for (int bit = 255; bit >= 0; bit--) {
        fq_sqr(&acc, &acc);
        if ((e[bit / 64] >> (bit % 64)) & 1) fq_mul(&acc, &acc, a);
    }
    *out = acc;
}

static void fq_inv(fe *out, const fe *a) {
    u64 e[4] = {QM[0] - 2, QM[1], QM[2], QM[3]}; /* QM[0] > 2: no borrow */
    fq_pow(out, a, e);
}

/* 1 / a in Fq2 (a != 0): conj(a) / (a0^2 + a1^2), since u^2 = -1 */
static void fq2_inv(fe2 *out, const fe2 *a) {
    fe t0, t1, n, ni;
    fq_sqr(&t0, &a->c0);
    fq_sqr(&t1, &a->c1);
    fq_add(&n, &t0, &t1);
    fq_inv(&ni, &n);
    fq_mul(&out->c0, &a->c0, &ni);
    fq_mul(&t1, &a->c1, &ni);
    fq_sub(&out->c1, &ZERO_FE, &t1);
}

/* Jacobian arithmetic on y^2 = x^3 + b, generated for G1 (over Fq) and G2 (over Fq2).
 * Infinity is z = 0. A stored base with x = y = 0 (on neither curve) is the point at
 * infinity, as snarkjs writes it; the multi-exponentiation skips those. */
#define CURVE(G, T, F, ZERO)                                                             \
    typedef struct { T x, y; } G##_aff;                                                  \
    typedef struct { T x, y, z; } G##_jac;                                               \
                                                                                         \
    static void G##_dbl(G##_jac *p) {                                                    \
        T a, b, c, d, e, f, t;                                                           \
        if (F##_zero(&p->z)) return;                                                     \
        F##_sqr(&a, &p->x);                                                              \
        F##_sqr(&b, &p->y);                                                              \
        F##_sqr(&c, &b);                                                                 \
        F##_add(&t, &p->x, &b);                                                          \
        F##_sqr(&t, &t);                                                                 \
        F##_sub(&t, &t, &a);                                                             \
        F##_sub(&t, &t, &c);                                                             \
        F##_add(&d, &t, &t);                                                             \
        F##_add(&e, &a, &a);                                                             \
        F##_add(&e, &e, &a);                                                             \
        F##_sqr(&f, &e);                                                                 \
        F##_mul(&p->z, &p->y, &p->z);                                                    \
        F##_add(&p->z, &p->z, &p->z);                                                    \
        F##_sub(&p->x, &f, &d);                                                          \
        F##_sub(&p->x, &p->x, &d);                                                       \
        F##_sub(&t, &d, &p->x);                                                          \
        F##_mul(&t, &e, &t);                                                             \
        F##_add(&c, &c, &c);                                                             \
        F##_add(&c, &c, &c);                                                             \
        F##_add(&c, &c, &c);                                                             \
        F##_sub(&p->y, &t, &c);                                                          \
    }                                                                                    \
                                                                                         \
    /* p += q for an affine q that is not infinity (madd-2007-bl) */                     \
    static void G##_madd(G##_jac *p, const G##_aff *q) {                                 \
        T z1z1, u2, s2, h, hh, i, j, r, v, t;                                            \
        if (F##_zero(&p->z)) {                                                           \
            p->x = q->x;                                                                 \
            p->y = q->y;                                                                 \
            F##_one(&p->z);                                                              \
            return;                                                                      \
        }                                                                                \
        F##_sqr(&z1z1, &p->z);                                                           \
        F##_mul(&u2, &q->x, &z1z1);                                                      \
        F##_mul(&s2, &q->y, &p->z);                                                      \
        F##_mul(&s2, &s2, &z1z1);                                                        \
        F##_sub(&h, &u2, &p->x);                                                         \
        F##_sub(&r, &s2, &p->y);                                                         \
        if (F##_zero(&h)) {                                                              \
            if (F##_zero(&r)) {                                                          \
                G##_dbl(p);                                                              \
            } else {                                                                     \
                p->z = ZERO;                                                             \
            }                                                                            \
            return;                                                                      \
        }                                                                                \
        F##_add(&r, &r, &r);                                                             \
        F##_sqr(&hh, &h);                                                                \
        F##_add(&i, &hh, &hh);                                                           \
        F##_add(&i, &i, &i);                                                             \
        F##_mul(&j, &h, &i);                                                             \
        F##_mul(&v, &p->x, &i);                                                          \
        F##_add(&t, &p->z, &h);                                                          \
        F##_sqr(&t, &t);                                                                 \
        F##_sub(&t, &t, &z1z1);                                                          \
        F##_sub(&p->z, &t, &hh);                                                         \
        F##_sqr(&t, &r);                                                                 \
        F##_sub(&t, &t, &j);                                                             \
        F##_sub(&t, &t, &v);                                                             \
        F##_sub(&p->x, &t, &v);                                                          \
        F##_mul(&j, &p->y, &j);                                                          \
        F##_add(&j, &j, &j);                                                             \
        F##_sub(&t, &v, &p->x);                                                          \
        F##_mul(&t, &r, &t);                                                             \
        F##_sub(&p->y, &t, &j);                                                          \
    }                                                                                    \
                                                                                         \
    /* p += q, both Jacobian (add-2007-bl) */                                            \
    static void G##_add(G##_jac *p, const G##_jac *q) {                                  \
        T z1z1, z2z2, u1, u2, s1, s2, h, i, j, r, v, t;                                  \
        if (F##_zero(&q->z)) return;                                                     \
        if (F##_zero(&p->z)) {                                                           \
            *p = *q;                                                                     \
            return;                                                                      \
        }                                                                                \
        F##_sqr(&z1z1, &p->z);                                                           \
        F##_sqr(&z2z2, &q->z);                                                           \
        F##_mul(&u1, &p->x, &z2z2);                                                      \
        F##_mul(&u2, &q->x, &z1z1);                                                      \
        F##_mul(&s1, &p->y, &q->z);                                                      \
        F##_mul(&s1, &s1, &z2z2);                                                        \
        F##_mul(&s2, &q->y, &p->z);                                                      \
        F##_mul(&s2, &s2, &z1z1);                                                        \
        F##_sub(&h, &u2, &u1);                                                           \
        F##_sub(&r, &s2, &s1);                                                           \
        if (F##_zero(&h)) {                                                              \
            if (F##_zero(&r)) {                                                          \
                G##_dbl(p);                                                              \
            } else {                                                                     \
                p->z = ZERO;                                                             \
            }                                                                            \
            return;                                                                      \
        }                                                                                \
        F##_add(&r, &r, &r);                                                             \
        F##_add(&i, &h, &h);                                                             \
        F##_sqr(&i, &i);                                                                 \
        F##_mul(&j, &h, &i);                                                             \
        F##_mul(&v, &u1, &i);                                                            \
        F##_add(&t, &p->z, &q->z);                                                       \
        F##_sqr(&t, &t);                                                                 \
        F##_sub(&t, &t, &z1z1);                                                          \
        F##_sub(&t, &t, &z2z2);                                                          \
        F##_mul(&p->z, &t, &h);                                                          \
        F##_sqr(&t, &r);                                                                 \
        F##_sub(&t, &t, &j);                                                             \
        F##_sub(&t, &t, &v);                                                             \
        F##_sub(&p->x, &t, &v);                                                          \
        F##_mul(&j, &s1, &j);                                                            \
        F##_add(&j, &j, &j);                                                             \
        F##_sub(&t, &v, &p->x);                                                          \
        F##_mul(&t, &r, &t);                                                             \
        F##_sub(&p->y, &t, &j);                                                          \
    }                                                                                    \
                                                                                         \
    static int G##_is_inf_aff(const G##_aff *q) {                                        \
        return F##_zero(&q->x) && F##_zero(&q->y);                                       \
    }                                                                                    \
                                                                                         \
    static void G##_from_aff(G##_jac *p, const G##_aff *q) {                             \
        p->x = q->x;                                                                     \
        p->y = q->y;                                                                     \
        if (G##_is_inf_aff(q)) p->z = ZERO;                                              \
        else F##_one(&p->z);                                                             \
    }                                                                                    \
                                                                                         \
    __attribute__((unused)) static void G##_neg(G##_jac *p) { F##_sub(&p->y, &ZERO, &p->y); } \
                                                                                         \
    /* out = k p for a scalar k in standard form (double and add: a few per proof) */    \
    static void G##_mul(G##_jac *out, const G##_jac *p, const fe *k) {                   \
        G##_jac acc;                                                                     \
        acc.x = ZERO; acc.y = ZERO; acc.z = ZERO;                                        \
        for (int bit = 255; bit >= 0; bit--) {                                           \
            G##_dbl(&acc);                                                               \
            if ((k->v[bit / 64] >> (bit % 64)) & 1) G##_add(&acc, p);                    \
        }                                                                                \
        *out = acc;                                                                      \
    }                                                                                    \
                                                                                         \
    /* Workspace of one multi-exponentiation: affine buckets filled by batches of affine \
     * additions that share one inversion (Montgomery's trick: about 6 multiplications per \
     * addition instead of 11 for a mixed Jacobian addition), and Jacobian side buckets for \
     * what a batch cannot take: the exceptional x1 = x2 (doubling or opposite points),  \
     * and additions deferred once more than the queue holds. */                         \
    typedef struct {                                                                     \
        size_t nb, cap, cnt;                                                             \
        uint32_t gen;                                                                    \
        G##_aff *bx;                                                                     \
        uint8_t *has;                                                                    \
        uint32_t *busy;                                                                  \
        G##_jac *bj;                                                                     \
        uint32_t *bb;                                                                    \
        G##_aff *bq;                                                                     \
        size_t nd; /* deferred: additions to a bucket already in the batch */            \
        uint32_t *db, *db2;                                                              \
        G##_aff *dq, *dq2;                                                               \
        T *den, *pref;                                                                   \
        uint8_t *skip;                                                                   \
    } G##_ws;                                                                            \
                                                                                         \
    static void G##_ws_free(G##_ws *ws) {                                                \
        free(ws->bx); free(ws->has); free(ws->busy); free(ws->bj);                       \
        free(ws->bb); free(ws->bq); free(ws->den); free(ws->pref); free(ws->skip);       \
        free(ws->db); free(ws->db2); free(ws->dq); free(ws->dq2);                        \
    }                                                                                    \
                                                                                         \
    static int G##_ws_init(G##_ws *ws, size_t nb) {                                      \
        memset(ws, 0, sizeof(*ws));                                                      \
        ws->nb = nb;                                                                     \
        ws->cap = nb / 4 > 512 ? 512 : nb / 4;                                           \
        if (ws->cap < 32) ws->cap = 0; /* few buckets: Jacobian additions only */        \
        ws->gen = 1;                                                                     \
        size_t cap = ws->cap ? ws->cap : 1;                                              \
        ws->bx = malloc(nb * sizeof(G##_aff));                                           \
        ws->has = calloc(nb, 1);                                                         \
        ws->busy = calloc(nb, sizeof(uint32_t));                                         \
        ws->bj = malloc(nb * sizeof(G##_jac));                                           \
        ws->bb = malloc(cap * sizeof(uint32_t));                                         \
        ws->bq = malloc(cap * sizeof(G##_aff));                                          \
        ws->den = malloc(cap * sizeof(T));                                               \
        ws->pref = malloc(cap * sizeof(T));                                              \
        ws->skip = malloc(cap);                                                          \
        ws->db = malloc(cap * sizeof(uint32_t));                                         \
        ws->db2 = malloc(cap * sizeof(uint32_t));                                        \
        ws->dq = malloc(cap * sizeof(G##_aff));                                          \
        ws->dq2 = malloc(cap * sizeof(G##_aff));                                         \
        if (!ws->bx || !ws->has || !ws->busy || !ws->bj || !ws->bb || !ws->bq || !ws->den || \
            !ws->pref || !ws->skip || !ws->db || !ws->db2 || !ws->dq || !ws->dq2) {      \
            G##_ws_free(ws);                                                             \
            return -1;                                                                   \
        }                                                                                \
        return 0;                                                                        \
    }                                                                                    \
                                                                                         \
    /* the pending affine additions bucket += point, with one inversion */               \
    static void G##_flush(G##_ws *ws) {                                                  \
        size_t n = ws->cnt;                                                              \
        if (!n) return;                                                                  \
        for (size_t j = 0; j < n; j++) {                                                 \
            const G##_aff *B = &ws->bx[ws->bb[j]], *P = &ws->bq[j];                      \
            F##_sub(&ws->den[j], &P->x, &B->x);                                          \
            ws->skip[j] = (uint8_t)F##_zero(&ws->den[j]);                                \
            if (ws->skip[j]) {                                                           \
                G##_madd(&ws->bj[ws->bb[j]], P);                                         \
                F##_one(&ws->den[j]);                                                    \
            }                                                                            \
            if (j == 0) ws->pref[0] = ws->den[0];                                        \
            else F##_mul(&ws->pref[j], &ws->pref[j - 1], &ws->den[j]);                   \
        }                                                                                \
        T inv, dinv, t, lam, x3;                                                         \
        F##_inv(&inv, &ws->pref[n - 1]);                                                 \
        for (size_t j = n; j-- > 0;) {                                                   \
            if (j > 0) {                                                                 \
                F##_mul(&dinv, &inv, &ws->pref[j - 1]);                                  \
                F##_mul(&inv, &inv, &ws->den[j]);                                        \
            } else {                                                                     \
                dinv = inv;                                                              \
            }                                                                            \
            if (ws->skip[j]) continue;                                                   \
            G##_aff *B = &ws->bx[ws->bb[j]];                                             \
            const G##_aff *P = &ws->bq[j];                                               \
            F##_sub(&t, &P->y, &B->y);                                                   \
            F##_mul(&lam, &t, &dinv);                                                    \
            F##_sqr(&x3, &lam);                                                          \
            F##_sub(&x3, &x3, &B->x);                                                    \
            F##_sub(&x3, &x3, &P->x);                                                    \
            F##_sub(&t, &B->x, &x3);                                                     \
            F##_mul(&t, &lam, &t);                                                       \
            F##_sub(&B->y, &t, &B->y);                                                   \
            B->x = x3;                                                                   \
        }                                                                                \
        ws->cnt = 0;                                                                     \
        ws->gen++;                                                                       \
    }                                                                                    \
                                                                                         \
    /* bucket b += P: copied into an empty bucket, queued in the batch, or deferred to the \
     * next batch when b is already in this one (a Jacobian addition when the deferred   \
     * queue is full) */                                                                 \
    static void G##_place(G##_ws *ws, size_t b, const G##_aff *P) {                      \
        if (!ws->has[b]) {                                                               \
            ws->bx[b] = *P;                                                              \
            ws->has[b] = 1;                                                              \
        } else if (ws->busy[b] == ws->gen) {                                             \
            if (ws->nd < ws->cap) {                                                      \
                ws->db[ws->nd] = (uint32_t)b;                                            \
                ws->dq[ws->nd] = *P;                                                     \
                ws->nd++;                                                                \
            } else {                                                                     \
                G##_madd(&ws->bj[b], P);                                                 \
            }                                                                            \
        } else {                                                                         \
            ws->busy[b] = ws->gen;                                                       \
            ws->bb[ws->cnt] = (uint32_t)b;                                               \
            ws->bq[ws->cnt] = *P;                                                        \
            ws->cnt++;                                                                   \
        }                                                                                \
    }                                                                                    \
                                                                                         \
    /* after a flush (empty batch): place the deferred additions again; at most cap of   \
     * them, so the batch cannot overflow. Returns how many left the queue. */           \
    static size_t G##_drain(G##_ws *ws) {                                                \
        size_t n = ws->nd;                                                               \
        uint32_t *tb = ws->db; ws->db = ws->db2; ws->db2 = tb;                           \
        G##_aff *tq = ws->dq; ws->dq = ws->dq2; ws->dq2 = tq;                            \
        ws->nd = 0;                                                                      \
        for (size_t i = 0; i < n; i++) G##_place(ws, ws->db2[i], &ws->dq2[i]);           \
        return n - ws->nd;                                                               \
    }                                                                                    \
                                                                                         \
    /* win = sum over k of row[k] bases[idx[k]] for the signed digits row[k] of one window */ \
    static void G##_window(G##_jac *win, const G##_aff *bases, const uint32_t *idx,      \
                           const int32_t *row, size_t m, G##_ws *ws) {                   \
        size_t nb = ws->nb;                                                              \
        memset(ws->has, 0, nb);                                                          \
        for (size_t b = 0; b < nb; b++) ws->bj[b].z = ZERO;                              \
        ws->nd = 0;                                                                      \
        for (size_t k = 0; k < m; k++) {                                                 \
            int32_t d = row[k];                                                          \
            if (!d) continue;                                                            \
            size_t b = (size_t)(d > 0 ? d : -d) - 1;                                     \
            G##_aff P = bases[idx[k]];                                                   \
            if (d < 0) F##_sub(&P.y, &ZERO, &P.y);                                       \
            if (!ws->cap) {                                                              \
                G##_madd(&ws->bj[b], &P);                                                \
                continue;                                                                \
            }                                                                            \
            G##_place(ws, b, &P);                                                        \
            while (ws->cnt == ws->cap) {                                                 \
                G##_flush(ws);                                                           \
                G##_drain(ws);                                                           \
            }                                                                            \
        }                                                                                \
        G##_flush(ws);                                                                   \
        while (ws->nd) {                                                                 \
            size_t before = ws->nd, placed = G##_drain(ws);                              \
            G##_flush(ws);                                                               \
            if (placed * 8 < before) { /* mostly one bucket: Jacobian additions */       \
                for (size_t i = 0; i < ws->nd; i++) G##_madd(&ws->bj[ws->db[i]], &ws->dq[i]); \
                ws->nd = 0;                                                              \
            }                                                                            \
        }                                                                                \
        G##_jac sum;                                                                     \
        sum.z = ZERO;                                                                    \
        win->z = ZERO;                                                                   \
        for (size_t b = nb; b-- > 0;) {                                                  \
            if (ws->has[b]) G##_madd(&sum, &ws->bx[b]);                                  \
            G##_add(&sum, &ws->bj[b]);                                                   \
            G##_add(win, &sum);                                                          \
        }                                                                                \
    }                                                                                    \
                                                                                         \
    /* out = sum scalars[i] bases[i]: Pippenger with signed c-bit digits. Scalars are in \
     * standard form and < r; zero scalars and bases at infinity are skipped. -1 when    \
     * out of memory. */                                                                 \
    static int G##_msm(G##_jac *out, const G##_aff *bases, const fe *scalars, size_t n) { \
        out->x = ZERO; out->y = ZERO; out->z = ZERO;                                     \
        uint32_t *idx = malloc((n ? n : 1) * sizeof(uint32_t));                          \
        if (!idx) return -1;                                                             \
        size_t m = 0;                                                                    \
        u64 any[4] = {0, 0, 0, 0};                                                       \
        for (size_t i = 0; i < n; i++) {                                                 \
            if (fe_zero(&scalars[i]) || G##_is_inf_aff(&bases[i])) continue;             \
            idx[m++] = (uint32_t)i;                                                      \
            for (int l = 0; l < 4; l++) any[l] |= scalars[i].v[l];                       \
        }                                                                                \
        if (m == 0) {                                                                    \
            free(idx);                                                                   \
            return 0;                                                                    \
        }                                                                                \
        int bits = 0;                                                                    \
        for (int l = 3; l >= 0; l--) {                                                   \
            if (any[l]) {                                                                \
                bits = 64 * l + 64 - __builtin_clzll(any[l]);                            \
                break;                                                                   \
            }                                                                            \
        }                                                                                \
        int c = 1;                                                                       \
        double best = -1;                                                                \
        for (int cc = 1; cc <= 16; cc++) {                                               \
            double nw = (double)((bits + cc) / cc);                                      \
            double cost = nw * (7.0 * (double)m + 27.0 * (double)(1u << (cc - 1)));      \
            if (best < 0 || cost < best) {                                               \
                best = cost;                                                             \
                c = cc;                                                                  \
            }                                                                            \
        }                                                                                \
        int nw = (bits + c) / c; /* ceil((bits + 1) / c): room for the last carry */     \
        size_t nb = (size_t)1 << (c - 1);                                                \
        int32_t *dg = malloc(m * (size_t)nw * sizeof(int32_t));                          \
        G##_ws ws;                                                                       \
        if (!dg || G##_ws_init(&ws, nb)) {                                               \
            free(idx); free(dg);                                                         \
            return -1;                                                                   \
        }                                                                                \
        int32_t full = 1 << c, half = 1 << (c - 1);                                      \
        for (size_t k = 0; k < m; k++) {                                                 \
            const fe *s = &scalars[idx[k]];                                              \
            int32_t carry = 0;                                                           \
            for (int w = 0; w < nw; w++) {                                               \
                int off = w * c, limb = off / 64, sh = off % 64;                         \
                u64 raw = 0;                                                             \
                if (limb < 4) {                                                          \
                    raw = s->v[limb] >> sh;                                              \
                    if (sh + c > 64 && limb < 3) raw |= s->v[limb + 1] << (64 - sh);     \
                }                                                                        \
                int32_t d = (int32_t)(raw & (u64)(full - 1)) + carry;                    \
                carry = d > half; /* branchless: the digits are random */                \
                dg[(size_t)w * m + k] = d - carry * full;                                \
            }                                                                            \
        }                                                                                \
        G##_jac win;                                                                     \
        for (int w = nw - 1; w >= 0; w--) {                                              \
            for (int t = 0; t < c; t++) G##_dbl(out);                                    \
            G##_window(&win, bases, idx, dg + (size_t)w * m, m, &ws);                    \
            G##_add(out, &win);                                                          \
        }                                                                                \
        free(idx); free(dg); G##_ws_free(&ws);                                           \
        return 0;                                                                        \
    }

CURVE(g1, fe, fq, ZERO_FE)
CURVE(g2, fe2, fq2, ZERO_FE2)
#undef CURVE

static void fq_std(fe *out, const fe *a) { fq_mul(out, a, &ONE_STD); }

/* affine coordinates of p, standard form, into out (2 x 32 bytes); -1 for infinity */
static int g1_affine_bytes(unsigned char *out, const g1_jac *p) {
    if (fq_zero(&p->z)) return -1;
    fe zi, zi2, zi3, x, y;
    fq_inv(&zi, &p->z);
    fq_sqr(&zi2, &zi);
    fq_mul(&zi3, &zi2, &zi);
    fq_mul(&x, &p->x, &zi2);
    fq_mul(&y, &p->y, &zi3);
    fq_std(&x, &x);
    fq_std(&y, &y);
    memcpy(out, x.v, 32);
    memcpy(out + 32, y.v, 32);
    return 0;
}

static int g2_affine_bytes(unsigned char *out, const g2_jac *p) {
    if (fq2_zero(&p->z)) return -1;
    fe2 zi, zi2, zi3, x, y;
    fq2_inv(&zi, &p->z);
    fq2_sqr(&zi2, &zi);
    fq2_mul(&zi3, &zi2, &zi);
    fq2_mul(&x, &p->x, &zi2);
    fq2_mul(&y, &p->y, &zi3);
    fe out4[4] = {x.c0, x.c1, y.c0, y.c1};
    for (int i = 0; i < 4; i++) {
        fq_std(&out4[i], &out4[i]);
        memcpy(out + 32 * i, out4[i].v, 32);
    }
    return 0;
}

/* In-place radix-2 FFT over Fr (Montgomery form): a[j] <- sum_i a[i] w^(ij), natural order
 * in and out. tw holds w^0 .. w^(n/2 - 1). */
static void fft(fe *a, size_t n, int logn, const fe *tw) {
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        for (int b = 0; b < logn; b++) j |= ((i >> b) & 1) << (logn - 1 - b);
        if (i < j) {
            fe t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
    for (size_t len = 2; len <= n; len <<= 1) {
        size_t half = len / 2, step = n / len;
        for (size_t i = 0; i < n; i += len) {
            fe u = a[i], v = a[i + half]; /* j = 0: the twiddle is 1 */
            fr_add(&a[i], &u, &v);
            fr_sub(&a[i + half], &u, &v);
            for (size_t j = 1; j < half; j++) {
                u = a[i + j];
                fr_mul(&v, &a[i + j + half], &tw[j * step]);
                fr_add(&a[i + j], &u, &v);
                fr_sub(&a[i + j + half], &u, &v);
            }
        }
    }
}

static void powers(fe *out, size_t count, const fe *w) {
    fe one_m;
    fr_mul(&one_m, &ONE_STD, &RR2);
    out[0] = one_m;
    for (size_t i = 1; i < count; i++) fr_mul(&out[i], &out[i - 1], w);
}

static int below(const unsigned char *p, size_t count, const u64 *m) {
    for (size_t i = 0; i < count; i++) {
        u64 v[4];
        memcpy(v, p + 32 * i, 32);
        if (geq(v, m)) return 0;
    }
    return 1;
}

static u64 rd32(const unsigned char *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

#define HEADER_SIZE (4 + 32 + 4 + 32 + 4 + 4 + 4 + 64 + 64 + 128 + 128 + 64 + 128)

/* Every input must be an immutable bytes object: the values are checked with the GIL held
 * and used after it is released, when a bytearray could change under the checks. */
static int only_bytes(Py_buffer **bufs, int n) {
    for (int i = 0; i < n; i++) {
        if (!bufs[i]->obj || !PyBytes_Check(bufs[i]->obj)) {
            PyErr_SetString(PyExc_TypeError, "the prover takes bytes objects only");
            return 0;
        }
    }
    return 1;
}

static PyObject *prove(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer hb, cb, ab, b1b, b2b, ccb, hhb, wb, fb, rsb;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*y*y*y*", &hb, &cb, &ab, &b1b, &b2b, &ccb,
                          &hhb, &wb, &fb, &rsb))
        return NULL;
    PyObject *result = NULL;
    const char *err = NULL;
    fe *ev = NULL, *tw = NULL, *twi = NULL;
    Py_buffer *all[] = {&hb, &cb, &ab, &b1b, &b2b, &ccb, &hhb, &wb, &fb, &rsb};
    if (!only_bytes(all, 10)) goto done;
    const unsigned char *h = hb.buf;
    if (hb.len != HEADER_SIZE || rd32(h) != 32 || memcmp(h + 4, QM, 32) != 0 ||
        rd32(h + 36) != 32 || memcmp(h + 40, RM, 32) != 0) {
        err = "the zkey header is not that of a BN254 Groth16 key";
        goto done;
    }
    size_t n_vars = rd32(h + 72), n_pub = rd32(h + 76), dom = rd32(h + 80);
    int logn = 0;
    while (((size_t)1 << logn) < dom) logn++;
    if (dom < 2 || ((size_t)1 << logn) != dom || logn > 28 || n_pub + 1 > n_vars) {
        err = "the zkey header's sizes are inconsistent";
        goto done;
    }
    const unsigned char *pts = h + 84; /* alpha1 beta1 beta2 gamma2 delta1 delta2 */
    size_t n_coef = cb.len >= 4 ? rd32(cb.buf) : 0;
    if (cb.len < 4 || (size_t)cb.len != 4 + 44 * n_coef || (size_t)ab.len != 64 * n_vars ||
        (size_t)b1b.len != 64 * n_vars || (size_t)b2b.len != 128 * n_vars ||
        (size_t)ccb.len != 64 * (n_vars - n_pub - 1) || (size_t)hhb.len != 64 * dom ||
        (size_t)wb.len != 32 * n_vars || fb.len != 128 || rsb.len != 64) {
        err = "a zkey section, the witness or the parameters have the wrong length";
        goto done;
    }
    if (!below(pts, (HEADER_SIZE - 84) / 32, QM) || !below(ab.buf, 2 * n_vars, QM) ||
        !below(b1b.buf, 2 * n_vars, QM) || !below(b2b.buf, 4 * n_vars, QM) ||
        !below(ccb.buf, 2 * (n_vars - n_pub - 1), QM) || !below(hhb.buf, 2 * dom, QM)) {
        err = "a zkey point has a coordinate >= q";
        goto done;
    }
    if (!below(wb.buf, n_vars, RM)) {
        err = "a witness value is >= r";
        goto done;
    }
    if (!below(fb.buf, 4, RM) || !below(rsb.buf, 2, RM)) {
        err = "an FFT constant or blinding scalar is >= r";
        goto done;
    }
    const unsigned char *cf = (const unsigned char *)cb.buf + 4;
    for (size_t i = 0; i < n_coef; i++) {
        const unsigned char *e = cf + 44 * i;
        if (rd32(e) > 1 || rd32(e + 4) >= dom || rd32(e + 8) >= n_vars || !below(e + 12, 1, RM)) {
            err = "a zkey coefficient names a matrix, row or signal outside the key";
            goto done;
        }
    }
    const fe *wit = wb.buf;
    ev = calloc(3 * dom, sizeof(fe));
    tw = malloc(dom / 2 * sizeof(fe));
    twi = malloc(dom / 2 * sizeof(fe));
    if (!ev || !tw || !twi) {
        PyErr_NoMemory();
        goto done;
    }
    unsigned char out[256];
    int status = 0;
    Py_BEGIN_ALLOW_THREADS
    fe *eva = ev, *evb = ev + dom, *evc = ev + 2 * dom;
    /* evaluations of A w and B w on the domain (snarkjs buildABC) */
    for (size_t i = 0; i < n_coef; i++) {
        const unsigned char *e = cf + 44 * i;
        fe coef, t;
        memcpy(coef.v, e + 12, 32);
        fr_mul(&t, &coef, &wit[rd32(e + 8)]); /* (c R^2) w / R = c w R: Montgomery */
        fe *dst = (rd32(e) ? evb : eva) + rd32(e + 4);
        fr_add(dst, dst, &t);
    }
    for (size_t i = 0; i < dom; i++) fr_mul(&evc[i], &eva[i], &evb[i]);
    fe k[4];
    for (int i = 0; i < 4; i++) {
        memcpy(k[i].v, (const unsigned char *)fb.buf + 32 * i, 32);
        fr_mul(&k[i], &k[i], &RR2); /* to Montgomery form */
    }
    powers(tw, dom / 2, &k[0]);
    powers(twi, dom / 2, &k[1]);
    /* to coefficients, shift to the coset inc * <w>, back to evaluations */
    for (int p = 0; p < 3; p++) {
        fe *x = ev + p * dom, f = k[2];
        fft(x, dom, logn, twi);
        for (size_t i = 0; i < dom; i++) {
            fr_mul(&x[i], &x[i], &f);
            fr_mul(&f, &f, &k[3]);
        }
        fft(x, dom, logn, tw);
    }
    /* joinABC: A B - C on the coset, to standard form: the scalars of the H points */
    for (size_t i = 0; i < dom; i++) {
        fe t;
        fr_mul(&t, &eva[i], &evb[i]);
        fr_sub(&t, &t, &evc[i]);
        fr_mul(&eva[i], &t, &ONE_STD);
    }
    g1_jac pa, pb1, pc, ph, t1;
    g2_jac pb, t2;
    const fe *scal_c = wit + n_pub + 1;
    if (g1_msm(&pa, ab.buf, wit, n_vars) || g1_msm(&pb1, b1b.buf, wit, n_vars) ||
        g2_msm(&pb, b2b.buf, wit, n_vars) ||
        g1_msm(&pc, ccb.buf, scal_c, n_vars - n_pub - 1) || g1_msm(&ph, hhb.buf, eva, dom)) {
        status = -1;
    } else {
        const g1_aff *alpha1 = (const g1_aff *)pts, *beta1 = (const g1_aff *)(pts + 64);
        const g2_aff *beta2 = (const g2_aff *)(pts + 128);
        const g1_aff *delta1 = (const g1_aff *)(pts + 384);
        const g2_aff *delta2 = (const g2_aff *)(pts + 448);
        fe r, s, rs;
        memcpy(r.v, rsb.buf, 32);
        memcpy(s.v, (const unsigned char *)rsb.buf + 32, 32);
        fe rm, sm;
        fr_mul(&rm, &r, &RR2);
        fr_mul(&sm, &s, &RR2);
        fr_mul(&rs, &rm, &sm);
        fr_mul(&rs, &rs, &ONE_STD); /* r s, standard form */
        g1_jac d1, ja;
        g2_jac d2, jb;
        g1_from_aff(&d1, delta1);
        g2_from_aff(&d2, delta2);
        /* pi_a = A + alpha1 + r delta1 */
        g1_from_aff(&ja, alpha1);
        g1_add(&pa, &ja);
        g1_mul(&t1, &d1, &r);
        g1_add(&pa, &t1);
        /* pi_b = B2 + beta2 + s delta2; pib1 = B1 + beta1 + s delta1 */
        g2_from_aff(&jb, beta2);
        g2_add(&pb, &jb);
        g2_mul(&t2, &d2, &s);
        g2_add(&pb, &t2);
        g1_from_aff(&ja, beta1);
        g1_add(&pb1, &ja);
        g1_mul(&t1, &d1, &s);
        g1_add(&pb1, &t1);
        /* pi_c = C + H + s pi_a + r pib1 - r s delta1 */
        g1_add(&pc, &ph);
        g1_mul(&t1, &pa, &s);
        g1_add(&pc, &t1);
        g1_mul(&t1, &pb1, &r);
        g1_add(&pc, &t1);
        g1_mul(&t1, &d1, &rs);
        g1_neg(&t1);
        g1_add(&pc, &t1);
        if (g1_affine_bytes(out, &pa) || g2_affine_bytes(out + 64, &pb) ||
            g1_affine_bytes(out + 192, &pc))
            status = -2;
    }
    Py_END_ALLOW_THREADS
    if (status == -1) {
        PyErr_NoMemory();
    } else if (status == -2) {
        err = "a proof point came out at infinity (a degenerate key)";
    } else {
        result = PyBytes_FromStringAndSize((const char *)out, 256);
    }
done:
    if (err) PyErr_SetString(PyExc_ValueError, err);
    free(ev);
    free(tw);
    free(twi);
    PyBuffer_Release(&hb);
    PyBuffer_Release(&cb);
    PyBuffer_Release(&ab);
    PyBuffer_Release(&b1b);
    PyBuffer_Release(&b2b);
    PyBuffer_Release(&ccb);
    PyBuffer_Release(&hhb);
    PyBuffer_Release(&wb);
    PyBuffer_Release(&fb);
    PyBuffer_Release(&rsb);
    return result;
}

/* msm_g1(bases, scalars) / msm_g2(bases, scalars) -> the sum of scalars[i] bases[i], affine,
 * standard form (all zero bytes for the point at infinity): the multi-exponentiation alone,
 * for the tests, which compare it with a plain Python sum. Bases as in a zkey (affine,
 * Montgomery form, zero bytes for infinity), scalars standard form. */
#define MSM_HOOK(G, PSIZE)                                                               \
    static PyObject *msm_##G(PyObject *self, PyObject *args) {                           \
        (void)self;                                                                      \
        Py_buffer bb, sb;                                                                \
        if (!PyArg_ParseTuple(args, "y*y*", &bb, &sb)) return NULL;                      \
        PyObject *result = NULL;                                                         \
        size_t n = (size_t)sb.len / 32;                                                  \
        unsigned char out[2 * PSIZE];                                                    \
        memset(out, 0, sizeof(out));                                                     \
        Py_buffer *all[] = {&bb, &sb};                                                   \
        if (!only_bytes(all, 2)) {                                                       \
        } else if ((size_t)sb.len != 32 * n || (size_t)bb.len != 2 * PSIZE * n) {        \
            PyErr_SetString(PyExc_ValueError, "bases and scalars differ in number");     \
        } else if (!below(bb.buf, 2 * PSIZE / 32 * n, QM) || !below(sb.buf, n, RM)) {    \
            PyErr_SetString(PyExc_ValueError, "a coordinate >= q or a scalar >= r");     \
        } else {                                                                         \
            G##_jac acc;                                                                 \
            int status;                                                                  \
            Py_BEGIN_ALLOW_THREADS                                                       \
            status = G##_msm(&acc, bb.buf, sb.buf, n);                                   \
            if (!status) G##_affine_bytes(out, &acc);                                    \
            Py_END_ALLOW_THREADS                                                         \
            if (status) PyErr_NoMemory();                                                \
            else result = PyBytes_FromStringAndSize((const char *)out, sizeof(out));     \
        }                                                                                \
        PyBuffer_Release(&bb);                                                           \
        PyBuffer_Release(&sb);                                                           \
        return result;                                                                   \
    }

MSM_HOOK(g1, 32)
MSM_HOOK(g2, 64)
#undef MSM_HOOK

static PyObject *set_adx(PyObject *self, PyObject *args) {
    (void)self;
    int want;
    if (!PyArg_ParseTuple(args, "p", &want)) return NULL;
    int before = use_adx;
    use_adx = want && cpu_has_adx();
    return PyBool_FromLong(before);
}

static PyObject *adx(PyObject *self, PyObject *args) {
    (void)self;
    (void)args;
    return PyBool_FromLong(use_adx);
}

static PyMethodDef methods[] = {
    {"prove", prove, METH_VARARGS,
     "prove(header, coefs, a, b1, b2, c, h, witness, fft, rs) -> 256 bytes: a Groth16 "
     "proof (pi_a, pi_b, pi_c affine, standard form, little-endian)"},
    {"msm_g1", msm_g1, METH_VARARGS, "msm_g1(bases, scalars) -> 64 bytes (tests)"},
    {"set_adx", set_adx, METH_VARARGS,
     "set_adx(on) -> the previous setting: use MULX/ADX when on and the CPU has them (tests)"},
    {"adx", adx, METH_NOARGS, "adx() -> whether the MULX/ADX multiplication is in use"},
    {"msm_g2", msm_g2, METH_VARARGS, "msm_g2(bases, scalars) -> 128 bytes (tests)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_groth16",
                                    "A Groth16 prover for snarkjs keys over BN254, in C.", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__groth16(void) {
    use_adx = cpu_has_adx();
    return PyModule_Create(&module);
}
