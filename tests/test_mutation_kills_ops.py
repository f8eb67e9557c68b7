"""Tests that kill mutants of autograd/ops.py (see tests/mutation/REPORT.md)."""
