"""BN254 (alt_bn128) point checks on plain integers: on-curve, on-twist, G2 subgroup.

These are the input checks every Groth16 verification runs before any pairing, whichever
implementation computes the pairing. They mirror what the EVM precompiles (EIP-196/197)
require of their inputs:

* every coordinate is canonical, ``0 <= c < q`` (checked by the callers, which know the
  field names);
* G1: ``y^2 = x^3 + 3`` over ``F_q``. The cofactor of G1 is 1, so on the curve means in
  the group;
* G2: ``y^2 = x^3 + 3 / (9 + u)`` over ``F_q2 = F_q[u] / (u^2 + 1)`` (the D-type twist),
  and ``r * Q = O``: the twist has ``h * r`` points with a cofactor ``h = 2q - r`` of
  254 bits, so a point on the twist is almost never in the order-``r`` subgroup unless it
  was made so (checked with the endomorphism ``psi``, see :func:`g2_in_subgroup`).

``F_q2`` elements are pairs ``(c0, c1)`` meaning ``c0 + c1 * u``, the order of snarkjs JSON
and py_ecc (the EVM writes ``c1`` first). Scalar multiplication is a plain double-and-add in
Jacobian coordinates; the subgroup check takes about 1.6 ms in CPython.
"""

from __future__ import annotations

from zkmargin.field import BASE_FIELD, BN_U, SNARK_FIELD

__all__ = [
    "B1",
    "B2",
    "BN_U",
    "G2_COFACTOR",
    "Fq2",
    "G1Point",
    "G2Point",
    "Q",
    "R",
    "g1_on_curve",
    "g2_in_subgroup",
    "g2_in_subgroup_naive",
    "g2_on_curve",
]

#: Base field modulus q: coordinates live in F_q (G1) and F_q2 (G2).
Q = BASE_FIELD
#: Group order r (the scalar field): public inputs and exponents live modulo r.
R = SNARK_FIELD

Fq2 = tuple[int, int]
#: An affine G1 point ``(x, y)``; the point at infinity has no representation here.
G1Point = tuple[int, int]
#: An affine G2 point ``((x.c0, x.c1), (y.c0, y.c1))``.
G2Point = tuple[Fq2, Fq2]

#: ``b`` of the G1 curve ``y^2 = x^3 + b``.
B1 = 3
#: ``b' = 3 / (9 + u)`` of the twist: ``1 / (9 + u) = (9 - u) / 82``.
_INV82 = pow(82, -1, Q)
B2: Fq2 = (3 * 9 * _INV82 % Q, -3 * _INV82 % Q)
#: Number of points on the twist divided by r.
G2_COFACTOR = 2 * Q - R


def _mul(a: Fq2, b: Fq2) -> Fq2:
    """``a * b`` in F_q2 (Karatsuba: three products of integers)."""
    a0, a1 = a
    b0, b1 = b
    t0, t1 = a0 * b0, a1 * b1
    return (t0 - t1) % Q, ((a0 + a1) * (b0 + b1) - t0 - t1) % Q


def _sqr(a: Fq2) -> Fq2:
    """``a^2`` in F_q2: ``(a0 + a1 u)^2 = (a0 + a1)(a0 - a1) + 2 a0 a1 u``."""
    a0, a1 = a
    return (a0 + a1) * (a0 - a1) % Q, 2 * a0 * a1 % Q


def _add(a: Fq2, b: Fq2) -> Fq2:
    return (a[0] + b[0]) % Q, (a[1] + b[1]) % Q


def g1_on_curve(p: G1Point) -> bool:
    """``y^2 == x^3 + 3 (mod q)`` for canonical coordinates."""
    x, y = p
    return (y * y - x * x * x - B1) % Q == 0


def g2_on_curve(p: G2Point) -> bool:
    """``y^2 == x^3 + b'`` in F_q2 for canonical coordinates."""
    x, y = p
    return _sqr(y) == _add(_mul(_sqr(x), x), B2)


_Jacobian = tuple[Fq2, Fq2, Fq2]  # (X, Y, Z): x = X / Z^2, y = Y / Z^3; Z = 0 is infinity
_ZERO: Fq2 = (0, 0)
_ONE: Fq2 = (1, 0)


def _double(p: _Jacobian) -> _Jacobian:
    """``2P`` on ``y^2 = x^3 + b`` (a = 0), formula dbl-2009-l with ``D = 4 X Y^2``;
    infinity (Z = 0) stays infinity. Written out on integers: it is the inner loop."""
    (x0, x1), (y0, y1), (z0, z1) = p
    q = Q
    a0, a1 = (x0 + x1) * (x0 - x1) % q, 2 * x0 * x1 % q  # A = X^2
    b0, b1 = (y0 + y1) * (y0 - y1) % q, 2 * y0 * y1 % q  # B = Y^2
    c0, c1 = (b0 + b1) * (b0 - b1), 2 * b0 * b1  # C = B^2 (reduced below)
    d0, d1 = 4 * (x0 * b0 - x1 * b1) % q, 4 * (x0 * b1 + x1 * b0) % q  # D = 4 X B
    e0, e1 = 3 * a0, 3 * a1  # E = 3A
    f0, f1 = (e0 + e1) * (e0 - e1), 2 * e0 * e1  # F = E^2
    x3 = (f0 - 2 * d0) % q, (f1 - 2 * d1) % q
    g0, g1 = d0 - x3[0], d1 - x3[1]
    y3 = (e0 * g0 - e1 * g1 - 8 * c0) % q, (e0 * g1 + e1 * g0 - 8 * c1) % q
    z3 = 2 * (y0 * z0 - y1 * z1) % q, 2 * (y0 * z1 + y1 * z0) % q
    return x3, y3, z3


def _add_affine(p: _Jacobian, a: G2Point) -> _Jacobian:
    """``P + A`` with ``A`` affine: formula madd-2007-bl, with the special cases (P at
    infinity, P = A, P = -A). Written out on integers like :func:`_double`."""
    (x0, x1), (y0, y1), (z0, z1) = p
    if z0 == z1 == 0:
        return a[0], a[1], _ONE
    (ax0, ax1), (ay0, ay1) = a
    q = Q
    zz0, zz1 = (z0 + z1) * (z0 - z1) % q, 2 * z0 * z1 % q  # Z1Z1 = Z1^2
    u0, u1 = (ax0 * zz0 - ax1 * zz1) % q, (ax0 * zz1 + ax1 * zz0) % q  # U2 = X2 Z1Z1
    t0, t1 = (ay0 * z0 - ay1 * z1) % q, (ay0 * z1 + ay1 * z0) % q  # Y2 Z1
    s0, s1 = (t0 * zz0 - t1 * zz1) % q, (t0 * zz1 + t1 * zz0) % q  # S2 = Y2 Z1 Z1Z1
    h0, h1 = (u0 - x0) % q, (u1 - x1) % q  # H = U2 - X1
    r0, r1 = 2 * (s0 - y0) % q, 2 * (s1 - y1) % q  # r = 2 (S2 - Y1)
    if h0 == h1 == 0:
        return _double(p) if r0 == r1 == 0 else (_ONE, _ONE, _ZERO)
    hh0, hh1 = (h0 + h1) * (h0 - h1) % q, 2 * h0 * h1 % q  # HH = H^2
    i0, i1 = 4 * hh0, 4 * hh1  # I = 4 HH
    j0, j1 = (h0 * i0 - h1 * i1) % q, (h0 * i1 + h1 * i0) % q  # J = H I
    v0, v1 = (x0 * i0 - x1 * i1) % q, (x0 * i1 + x1 * i0) % q  # V = X1 I
    x3 = ((r0 + r1) * (r0 - r1) - j0 - 2 * v0) % q, (2 * r0 * r1 - j1 - 2 * v1) % q
    g0, g1 = v0 - x3[0], v1 - x3[1]
    y3 = ((r0 * g0 - r1 * g1) - 2 * (y0 * j0 - y1 * j1)) % q, \
        ((r0 * g1 + r1 * g0) - 2 * (y0 * j1 + y1 * j0)) % q
    w0, w1 = z0 + h0, z1 + h1  # Z3 = (Z1 + H)^2 - Z1Z1 - HH
    z3 = ((w0 + w1) * (w0 - w1) - zz0 - hh0) % q, (2 * w0 * w1 - zz1 - hh1) % q
    return x3, y3, z3


def _g2_multiply(p: G2Point, k: int) -> _Jacobian:
    """``k * P`` by left-to-right double-and-add (not constant time: public inputs only)."""
    acc: _Jacobian = (_ONE, _ONE, _ZERO)
    for bit in bin(k)[2:]:
        acc = _double(acc)
        if bit == "1":
            acc = _add_affine(acc, p)
    return acc


def _fq2_pow(a: Fq2, e: int) -> Fq2:
    acc = _ONE
    for bit in bin(e)[2:]:
        acc = _sqr(acc)
        if bit == "1":
            acc = _mul(acc, a)
    return acc


#: ``xi = 9 + u``, the twist's non-residue: the twist is ``y^2 = x^3 + 3 / xi``.
_XI: Fq2 = (9, 1)
#: Constants of psi = untwist-Frobenius-twist: ``psi(x, y) = (conj(x) * xi^((q-1)/3),
#: conj(y) * xi^((q-1)/2))`` (untwisting multiplies by w^2, w^3 with w^6 = xi).
_PSI_X = _fq2_pow(_XI, (Q - 1) // 3)
_PSI_Y = _fq2_pow(_XI, (Q - 1) // 2)
#: On G2, psi acts as multiplication by q = 6u^2 (mod r), u the BN seed.
if Q - R != 6 * BN_U**2:
    raise AssertionError("q - r = 6u^2 for BN254")


def _psi(p: G2Point) -> G2Point:
    (x0, x1), (y0, y1) = p
    return _mul((x0, -x1 % Q), _PSI_X), _mul((y0, -y1 % Q), _PSI_Y)


def g2_in_subgroup_naive(p: G2Point) -> bool:
    """``r * P == O``: the definition (254-bit scalar multiplication), for tests."""
    return _g2_multiply(p, R)[2] == _ZERO


def g2_in_subgroup(p: G2Point) -> bool:
    """``P`` (on the twist) is in the order-r subgroup: ``psi(P) == [6u^2] P``.

    El Housni, Guillevic, Piellard, "Co-factor clearing and subgroup membership testing on
    pairing-friendly curves" (eprint 2022/352), section 4: for BN curves this equality
    holds exactly on G2. A 127-bit scalar multiplication instead of the 254-bit ``r * P``
    (tests compare both, and py_ecc's ``multiply(P, r)``, on points inside and outside).
    """
    x, y, z = _g2_multiply(p, 6 * BN_U**2)
    if z == _ZERO:
        return False  # psi(P) of an affine point is never infinity
    px, py = _psi(p)
    zz = _sqr(z)
    return x == _mul(px, zz) and y == _mul(py, _mul(zz, z))
