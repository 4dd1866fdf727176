"""The compiled modules, zkmargin.poseidon._fast (Poseidon over BN254 in C) and
zkmargin.prover._groth16 (the builtin Groth16 prover); everything else about the package is in pyproject.toml."""

from setuptools import Extension, setup

FLAGS = ["-O3", "-std=c11"]
setup(ext_modules=[Extension("zkmargin.poseidon._fast", ["zkmargin/poseidon/_fast.c"],
                             extra_compile_args=FLAGS),
                   Extension("zkmargin.prover._groth16", ["zkmargin/prover/_groth16.c"],
                             extra_compile_args=FLAGS)])
