"""The one compiled module, zkmargin.poseidon._fast (Poseidon over BN254 in C); everything
else about the package is in pyproject.toml."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("zkmargin.poseidon._fast", ["zkmargin/poseidon/_fast.c"],
                             extra_compile_args=["-O3", "-std=c11"])])
