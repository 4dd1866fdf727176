"""Where zkmargin finds what is not Python: one module for the checkout and the installed
package alike.

The non-Python sources live in top-level folders of the repository, by toolchain:
``circuits/`` (circom templates and the ``circuits.json`` registry of shapes),
``prover/js/`` (the development powers-of-tau generator), ``verifier/contracts/``
(Solidity) and ``verifier/web/`` (the account holders' page). In a checkout they are read
in place; an installed wheel carries the same folders under ``<prefix>/share/zkmargin/``
(``[tool.setuptools.data-files]`` in pyproject.toml), and :data:`SOURCES` picks whichever
exists, the checkout first.

Two locations are per machine, not per source tree, and can be set in the environment:

* ``ZKMARGIN_NODE_MODULES``: the pinned npm packages (circom2, snarkjs, circomlib, ...);
  default ``<checkout>/node_modules`` (``make setup`` installs them there);
* ``ZKMARGIN_CACHE``: compiled circuits, keys, development ptau files; default
  ``<checkout>/.cache`` (``~/.cache/zkmargin`` for an installed package).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: The repository checkout this package was imported from (it may not exist when installed).
CHECKOUT = Path(__file__).resolve().parent.parent
_INSTALLED = Path(sys.prefix) / "share" / "zkmargin"


def _sources() -> Path:
    if (CHECKOUT / "circuits" / "lib").is_dir():
        return CHECKOUT
    return _INSTALLED


#: The folder holding ``circuits/``, ``prover/js/`` and ``verifier/``.
SOURCES = _sources()
#: Circom templates (library files, no ``component main``).
CIRCUITS_LIB = SOURCES / "circuits" / "lib"
#: The registry of the circuit shapes compiled by tests, the demo and the benchmarks.
CIRCUITS_JSON = SOURCES / "circuits" / "circuits.json"
#: Node helpers of the proving side.
PROVER_JS = SOURCES / "prover" / "js"
#: Solidity sources (the verifier template and the registry).
CONTRACTS = SOURCES / "verifier" / "contracts"
#: The account holders' static page.
WEB = SOURCES / "verifier" / "web"
#: The pinned npm packages.
NODE_MODULES = Path(os.environ.get("ZKMARGIN_NODE_MODULES", SOURCES / "node_modules"))
#: Compiled circuits, keys and development ptau files, reused across runs.
CACHE = Path(os.environ.get(
    "ZKMARGIN_CACHE",
    CHECKOUT / ".cache" if SOURCES == CHECKOUT else Path.home() / ".cache" / "zkmargin"))
