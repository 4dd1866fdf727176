/*
 * Poseidon over the BN254 scalar field, many hashes per call: the "fast" implementation
 * behind zkmargin.poseidon (the readable specification is zkmargin/poseidon/reference.py).
 *
 * permute_many(t, rc, full_mix, prc, sparse, inputs) -> bytes
 *
 *   t          state width (number of inputs + 1), 2..17
 *   rc         8 * t constants of the full rounds
 *   full_mix   8 matrices t x t, row-major, one per full round
 *   prc        R_P constants of the partial rounds (one per round, added to state[0])
 *   sparse     R_P sparse matrices, each 2t - 1 elements: row 0, then column 0 below it
 *   inputs     n * (t - 1) field elements: n hashes
 *   returns    n field elements: state[0] after the permutation of [0, inputs...]
 *
 * Every field element is 32 bytes little-endian and must be < r (checked: a value >= r is
 * a ValueError, never silently reduced). The constants are given in Montgomery form
 * (x * 2^256 mod r, computed once per width by the caller) and come from reference.py, so this
 * file holds no Poseidon constant, only the field: r, -r^-1 mod 2^64 and R^2 mod r for
 * Montgomery arithmetic with R = 2^256 (4 limbs of 64 bits). The caller turns the
 * reference's rounds (ARK, S-box x^5, MDS mix) into the equivalent sparse form of the
 * Poseidon paper's appendix B, see permute() below. Each dot product accumulates its
 * unreduced 512-bit products and reduces once (lazy reduction).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#if !defined(__SIZEOF_INT128__) || !defined(__BYTE_ORDER__) || \
    __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "zkmargin's C Poseidon needs unsigned __int128 and a little-endian machine"
#endif

typedef uint64_t u64;
typedef unsigned __int128 u128;

#define MAX_T 17
#define FULL_ROUNDS 8

static const u64 P[4] = {0x43e1f593f0000001ULL, 0x2833e84879b97091ULL,
                         0xb85045b68181585dULL, 0x30644e72e131a029ULL};
static const u64 NP = 0xc2e1f593efffffffULL; /* -P^-1 mod 2^64 */
static const u64 R2[4] = {0x1bb8e645ae216da7ULL, 0x53fe3ab1e35c59e3ULL,
                          0x8c49833d53bb8085ULL, 0x0216d0b17f4e44a5ULL};

typedef struct { u64 v[4]; } fe;

static int geq_p(const u64 a[4]) {
    for (int i = 3; i >= 0; i--) {
        if (a[i] != P[i]) return a[i] > P[i];
    }
    return 1;
}

static void sub_p(u64 a[4]) {
    u64 borrow = 0;
    for (int i = 0; i < 4; i++) {
        u128 d = (u128)a[i] - P[i] - borrow;
        a[i] = (u64)d;
        borrow = (u64)(d >> 64) & 1;
    }
}

static inline void add(fe *r, const fe *a, const fe *b) {
    u64 carry = 0;
    for (int i = 0; i < 4; i++) {
        u128 s = (u128)a->v[i] + b->v[i] + carry;
        r->v[i] = (u64)s;
        carry = (u64)(s >> 64);
    }
    /* a, b < P < 2^254: the sum fits in 256 bits */
    if (geq_p(r->v)) sub_p(r->v);
}

/* Montgomery reduction of an 8-limb value T < 2^512: r = T / R mod P, < P. The carry out
 * of each step is added one limb higher by the next; the result is below T / R + P,
 * i.e. a few P at most, and is brought below P by subtraction. */
static inline void redc(fe *r, u64 t[8]) {
    u64 hi = 0;
    for (int i = 0; i < 4; i++) {
        u64 m = t[i] * NP;
        u64 c = 0;
        for (int j = 0; j < 4; j++) {
            u128 s = (u128)m * P[j] + t[i + j] + c;
            t[i + j] = (u64)s;
            c = (u64)(s >> 64);
        }
        u128 s = (u128)t[i + 4] + c + hi;
        t[i + 4] = (u64)s;
        hi = (u64)(s >> 64);
    }
    u64 *v = t + 4;
    while (hi || geq_p(v)) {
        u64 borrow = 0;
        for (int i = 0; i < 4; i++) {
            u128 d = (u128)v[i] - P[i] - borrow;
            v[i] = (u64)d;
            borrow = (u64)(d >> 64) & 1;
        }
        hi -= borrow;
    }
    memcpy(r->v, v, 32);
}

/* r = sum_k a[k] * b[k] mod P (Montgomery: divided by R): the 512-bit products are summed
 * unreduced and reduced once. With a[k], b[k] < P < 2^254 and n <= MAX_T = 17 the sum is
 * below 17 P^2 < 2^512: 8 limbs, no carry out. */
static inline void dot(fe *r, const fe *a, const fe *b, int n) {
    u64 acc[8] = {0};
    for (int k = 0; k < n; k++) {
        u64 w[8] = {0};
        for (int i = 0; i < 4; i++) {
            u64 carry = 0;
            for (int j = 0; j < 4; j++) {
                u128 s = (u128)a[k].v[j] * b[k].v[i] + w[i + j] + carry;
                w[i + j] = (u64)s;
                carry = (u64)(s >> 64);
            }
            w[i + 4] = carry;
        }
        u64 carry = 0;
        for (int i = 0; i < 8; i++) {
            u128 s = (u128)acc[i] + w[i] + carry;
            acc[i] = (u64)s;
            carry = (u64)(s >> 64);
        }
    }
    redc(r, acc);
}

/* r = a * b / R mod P (a, b < P): CIOS Montgomery multiplication without the two extra
 * carry words, valid because the top limb of P is below 2^63 - 1 (the "no-carry"
 * condition of gnark-crypto's field code): t stays below 2P < 2^256 after each step. */
static inline void mul(fe *r, const fe *a, const fe *b) {
    u64 t0 = 0, t1 = 0, t2 = 0, t3 = 0;
    for (int i = 0; i < 4; i++) {
        u64 bi = b->v[i];
        u128 s = (u128)a->v[0] * bi + t0;
        u64 A = (u64)(s >> 64);
        t0 = (u64)s;
        u64 m = t0 * NP;
        u128 c = (u128)m * P[0] + t0;
        u64 C = (u64)(c >> 64);
        s = (u128)a->v[1] * bi + t1 + A;
        A = (u64)(s >> 64);
        c = (u128)m * P[1] + (u64)s + C;
        C = (u64)(c >> 64);
        t0 = (u64)c;
        s = (u128)a->v[2] * bi + t2 + A;
        A = (u64)(s >> 64);
        c = (u128)m * P[2] + (u64)s + C;
        C = (u64)(c >> 64);
        t1 = (u64)c;
        s = (u128)a->v[3] * bi + t3 + A;
        A = (u64)(s >> 64);
        c = (u128)m * P[3] + (u64)s + C;
        C = (u64)(c >> 64);
        t2 = (u64)c;
        t3 = C + A;
    }
    u64 t[4] = {t0, t1, t2, t3};
    if (geq_p(t)) sub_p(t);
    memcpy(r->v, t, 32);
}

static inline void pow5(fe *x) {
    fe x2, x4;
    mul(&x2, x, x);
    mul(&x4, &x2, &x2);
    mul(x, &x4, x);
}

static int load(fe *out, const unsigned char *bytes) {
    fe raw;
    memcpy(raw.v, bytes, 32); /* little-endian limbs on a little-endian machine */
    if (geq_p(raw.v)) return -1;
    fe r2;
    memcpy(r2.v, R2, 32);
    mul(out, &raw, &r2); /* to Montgomery form */
    return 0;
}

static void store(unsigned char *bytes, const fe *a) {
    fe one = {{1, 0, 0, 0}}, plain;
    mul(&plain, a, &one); /* out of Montgomery form */
    memcpy(bytes, plain.v, 32);
}

/* The permutation in the equivalent form of the Poseidon paper's appendix B, which the
 * caller computed from the reference's constants (zkmargin/poseidon/__init__.py):
 * full rounds: state += rc; x^5 on all; state = full_mix[round] * state;
 * partial round i: state[0] += prc[i]; x^5 on state[0]; then the sparse matrix
 * [[row0], [col | I]]: new[0] = row0 . state, new[j] = col[j-1] * state[0] + state[j]. */
static void permute(fe *state, int t, int rounds_p, const fe *rc, const fe *full_mix,
                    const fe *prc, const fe *sparse) {
    fe next[MAX_T];
    for (int r = 0; r < FULL_ROUNDS; r++) {
        const fe *c = rc + (size_t)r * t;
        const fe *m = full_mix + (size_t)r * t * t;
        for (int i = 0; i < t; i++) {
            add(&state[i], &state[i], &c[i]);
            pow5(&state[i]);
        }
        for (int i = 0; i < t; i++) dot(&next[i], &m[i * t], state, t);
        memcpy(state, next, sizeof(fe) * (size_t)t);
        if (r == FULL_ROUNDS / 2 - 1) {
            for (int p = 0; p < rounds_p; p++) {
                const fe *row0 = sparse + (size_t)p * (2 * t - 1), *col = row0 + t;
                add(&state[0], &state[0], &prc[p]);
                pow5(&state[0]);
                fe s0 = state[0], prod;
                dot(&state[0], row0, state, t);
                for (int j = 1; j < t; j++) {
                    mul(&prod, &col[j - 1], &s0);
                    add(&state[j], &state[j], &prod);
                }
            }
        }
    }
}

static int load_all(fe *out, const unsigned char *bytes, Py_ssize_t count, const char *what) {
    for (Py_ssize_t i = 0; i < count; i++) {
        memcpy(out[i].v, bytes + 32 * i, 32); /* already in Montgomery form */
        if (geq_p(out[i].v)) {
            PyErr_Format(PyExc_ValueError, "%s element %zd is not below the field modulus",
                         what, i);
            return -1;
        }
    }
    return 0;
}

static PyObject *permute_many(PyObject *self, PyObject *args) {
    int t, rounds_p;
    Py_buffer rc_buf, mix_buf, prc_buf, sparse_buf, in_buf;
    if (!PyArg_ParseTuple(args, "iy*y*y*y*y*", &t, &rc_buf, &mix_buf, &prc_buf, &sparse_buf,
                          &in_buf))
        return NULL;
    PyObject *result = NULL;
    fe *rc = NULL, *mix = NULL, *prc = NULL, *sparse = NULL;
    rounds_p = (int)(prc_buf.len / 32);
    Py_ssize_t width = (Py_ssize_t)(t - 1) * 32;
    if (t < 2 || t > MAX_T || rounds_p < 1 || rounds_p > 128) {
        PyErr_Format(PyExc_ValueError, "unsupported Poseidon width t=%d, R_P=%d", t,
                     rounds_p);
        goto done;
    }
    Py_ssize_t n_rc = (Py_ssize_t)FULL_ROUNDS * t, n_mix = n_rc * t;
    Py_ssize_t n_sparse = (Py_ssize_t)rounds_p * (2 * t - 1);
    if (rc_buf.len != n_rc * 32 || mix_buf.len != n_mix * 32 || prc_buf.len % 32 ||
        sparse_buf.len != n_sparse * 32) {
        PyErr_SetString(PyExc_ValueError, "Poseidon constants of the wrong size");
        goto done;
    }
    if (in_buf.len % width) {
        PyErr_Format(PyExc_ValueError, "inputs are %zd bytes, not a multiple of %zd",
                     in_buf.len, width);
        goto done;
    }
    Py_ssize_t n = in_buf.len / width;
    rc = PyMem_Malloc(sizeof(fe) * (size_t)n_rc);
    mix = PyMem_Malloc(sizeof(fe) * (size_t)n_mix);
    prc = PyMem_Malloc(sizeof(fe) * (size_t)rounds_p);
    sparse = PyMem_Malloc(sizeof(fe) * (size_t)n_sparse);
    if (!rc || !mix || !prc || !sparse) {
        PyErr_NoMemory();
        goto done;
    }
    if (load_all(rc, rc_buf.buf, n_rc, "round constant") ||
        load_all(mix, mix_buf.buf, n_mix, "full-round matrix") ||
        load_all(prc, prc_buf.buf, rounds_p, "partial-round constant") ||
        load_all(sparse, sparse_buf.buf, n_sparse, "sparse matrix")) goto done;
    result = PyBytes_FromStringAndSize(NULL, n * 32);
    if (!result) goto done;
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(result);
    const unsigned char *in = in_buf.buf;
    int bad = 0;
    Py_ssize_t bad_at = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t h = 0; h < n && !bad; h++) {
        fe state[MAX_T];
        memset(&state[0], 0, sizeof(fe));
        for (int i = 1; i < t; i++) {
            if (load(&state[i], in + h * width + (i - 1) * 32)) {
                bad = 1;
                bad_at = h * (t - 1) + i - 1;
            }
        }
        if (!bad) {
            permute(state, t, rounds_p, rc, mix, prc, sparse);
            store(out + h * 32, &state[0]);
        }
    }
    Py_END_ALLOW_THREADS
    if (bad) {
        Py_CLEAR(result);
        PyErr_Format(PyExc_ValueError, "input element %zd is not below the field modulus",
                     bad_at);
    }
done:
    PyMem_Free(rc);
    PyMem_Free(mix);
    PyMem_Free(prc);
    PyMem_Free(sparse);
    PyBuffer_Release(&rc_buf);
    PyBuffer_Release(&mix_buf);
    PyBuffer_Release(&prc_buf);
    PyBuffer_Release(&sparse_buf);
    PyBuffer_Release(&in_buf);
    return result;
}

static PyMethodDef methods[] = {
    {"permute_many", permute_many, METH_VARARGS,
     "permute_many(t, rc, full_mix, prc, sparse, inputs) -> bytes: state[0] "
     "after the Poseidon permutation of [0, inputs...] for each hash (32-byte "
     "little-endian field elements)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fast", NULL, -1, methods};

PyMODINIT_FUNC PyInit__fast(void) { return PyModule_Create(&module); }
