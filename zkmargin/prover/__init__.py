"""The proving side: circom toolchain, witnesses, constraint checks (issue 3, in progress)."""
